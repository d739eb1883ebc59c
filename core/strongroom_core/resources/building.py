"""Build typed models from a spec that already passed ``checking`` (defaults applied).

Nothing here validates: every lookup below relies on the schema having required the key or
supplied its default, so a ``KeyError`` here is a bug in the CRD or in this module, not a user
error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, cast

from strongroom_core import injection
from strongroom_core.resources import checking, models

_TTL_PART = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def ttl_seconds(ttl: str) -> int:
    """``"1d12h"`` → 129600 (the schema has already checked the shape)."""
    return sum(int(count) * _UNIT_SECONDS[unit] for count, unit in _TTL_PART.findall(ttl))


def app(meta: models.ObjectMeta, spec: Mapping[str, Any]) -> models.App:
    identity = None
    if "identity" in spec:
        raw = spec["identity"]
        identity = models.Identity(
            issuer=raw["issuer"],
            jwks_url=raw["jwksURL"],
            audiences=tuple(raw["audiences"]),
            algorithms=tuple(raw["algorithms"]),
            user_id_claim=raw["claims"]["userId"],
            groups_claim=raw["claims"]["groups"],
        )
    return models.App(
        meta=meta,
        service_accounts=tuple(spec["serviceAccounts"]),
        identity=identity,
        policy_rules=tuple(spec.get("policy", {}).get("rules", ())),
        return_urls=tuple(spec.get("connect", {}).get("returnURLs", ())),
    )


def provider(meta: models.ObjectMeta, spec: Mapping[str, Any]) -> models.Provider:
    kind = cast(models.ProviderType, spec["type"])
    return models.Provider(
        meta=meta,
        app_ref=spec["appRef"],
        type=kind,
        preset=spec.get("preset"),
        display_name=spec.get("displayName", ""),
        allowed_hosts=tuple(spec["allowedHosts"]),
        injections=tuple(_injection(item) for item in spec["injections"]),
        oauth2=_oauth2(spec["oauth2"]) if kind == "oauth2" else None,
        secret=(
            models.SecretSettings(fields=tuple(spec.get("secret", {}).get("fields", ["token"])))
            if kind == "secret"
            else None
        ),
    )


def _injection(item: Mapping[str, Any]) -> injection.Injection:
    return injection.Injection(
        type=item["type"],
        name=item.get("name"),
        format=item.get("format"),
        username=item.get("username", "{username}"),
        password=item.get("password", "{password}"),
    )


def _oauth2(raw: Mapping[str, Any]) -> models.OAuth2Settings:
    ref = raw.get("clientSecretRef")
    mapping = raw["tokenResponse"]
    return models.OAuth2Settings(
        token_url=raw["tokenURL"],
        client_id=raw["clientId"],
        authorization_url=raw.get("authorizationURL"),
        revocation_url=raw.get("revocationURL"),
        client_secret_ref=models.SecretKeyRef(ref["name"], ref["key"]) if ref else None,
        default_scopes=tuple(raw.get("defaultScopes", ())),
        scope_separator=raw["scopeSeparator"],
        pkce=raw["pkce"],
        client_auth_method=raw["clientAuthMethod"],
        refresh_margin_seconds=raw["refreshMarginSeconds"],
        token_response=models.TokenResponseMapping(
            access_token=mapping["accessToken"],
            refresh_token=mapping["refreshToken"],
            expires_in=mapping["expiresIn"],
            expires_at=mapping["expiresAt"],
            token_type=mapping["tokenType"],
            scope=mapping["scope"],
        ),
    )


def grant(meta: models.ObjectMeta, spec: Mapping[str, Any], now: float | None) -> models.Grant:
    expires_at: float | None = None
    ttl: int | None = None
    if "expiresAt" in spec:
        moment = checking.parse_date_time(spec["expiresAt"])
        assert moment is not None  # the schema's date-time format checked it
        expires_at = moment.timestamp()
    elif "ttl" in spec:
        ttl = ttl_seconds(spec["ttl"])
        start = meta.creation_timestamp
        if start is None:
            start = time.time() if now is None else now
        expires_at = float(start + ttl)
    credential = None
    if "credential" in spec:
        raw = spec["credential"]
        ref = raw.get("secretRef")
        credential = models.Credential(
            sealed_value=raw.get("sealedValue"),
            secret_ref=models.SecretKeyRef(ref["name"], ref.get("key")) if ref else None,
            client_credentials="clientCredentials" in raw,
        )
    restrictions = spec.get("restrictions", {})
    return models.Grant(
        meta=meta,
        app_ref=spec["appRef"],
        provider_ref=spec["providerRef"],
        principal=models.Principal(kind=spec["principal"]["kind"], id=spec["principal"]["id"]),
        scopes=tuple(spec.get("scopes", ())),
        expires_at=expires_at,
        ttl_seconds=ttl,
        restrictions=models.Restrictions(
            methods=tuple(restrictions.get("methods", ())),
            paths=tuple(restrictions.get("paths", ())),
            hosts=tuple(restrictions.get("hosts", ())),
            time_windows=tuple(restrictions.get("timeWindows", ())),
            source_ranges=tuple(restrictions.get("sourceRanges", ())),
            rate_limit=restrictions.get("rateLimit"),
            quota=restrictions.get("quota"),
        ),
        credential=credential,
    )


def agent(meta: models.ObjectMeta, spec: Mapping[str, Any]) -> models.Agent:
    return models.Agent(
        meta=meta,
        app_ref=spec["appRef"],
        suspended=spec["suspended"],
        access=tuple(
            models.AgentAccess(
                grant=entry.get("grant"),
                provider=entry.get("provider"),
                scopes=tuple(entry["scopes"]) if "scopes" in entry else None,
            )
            for entry in spec.get("access", ())
        ),
        key_overlap_seconds=spec["keyRotation"]["overlapSeconds"],
    )
