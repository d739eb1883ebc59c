"""One App's identity settings in the shapes the rest of Strongroom holds them: the parsed
``models.Identity`` (operator, dev mode) or the ``spec.identity`` dict as written in the App
(what the compiled policy can carry to a sidecar unchanged), turned into what verification
needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from strongroom_core.identity import caching, principals, verification
from strongroom_core.resources import models


@dataclass(frozen=True, slots=True)
class IdentityConfig:
    jwks_url: str
    expected: verification.Expectations
    claims: principals.ClaimMapping

    def new_cache(self, **options: float) -> caching.JwksCache:
        """A JWKS cache for this URL (``min_refetch_interval``, ``max_age`` may be given)."""
        return caching.JwksCache(self.jwks_url, **options)

    def same_keys_as(self, other: IdentityConfig) -> bool:
        """Whether a new config may keep the old JWKS cache (only the URL matters)."""
        return self.jwks_url == other.jwks_url


def from_model(identity: models.Identity, *, leeway: float | None = None) -> IdentityConfig:
    return IdentityConfig(
        jwks_url=identity.jwks_url,
        expected=verification.Expectations(
            identity.issuer,
            tuple(identity.audiences),
            tuple(identity.algorithms),
            verification.DEFAULT_LEEWAY if leeway is None else leeway,
        ),
        claims=principals.ClaimMapping(identity.user_id_claim, identity.groups_claim),
    )


def from_spec(spec: Mapping[str, Any], *, leeway: float | None = None) -> IdentityConfig:
    """From an App's ``spec.identity`` mapping; ``ValueError`` naming the field if malformed."""
    try:
        claims = spec.get("claims") or {}
        identity = models.Identity(
            issuer=_string(spec, "issuer"),
            jwks_url=_string(spec, "jwksURL"),
            audiences=tuple(spec["audiences"]),
            algorithms=tuple(spec.get("algorithms") or ("RS256",)),
            user_id_claim=str(claims.get("userId") or "sub"),
            groups_claim=str(claims.get("groups") or "groups"),
        )
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"identity: malformed ({type(e).__name__}: {e})") from None
    return from_model(identity, leeway=leeway)


def _string(spec: Mapping[str, Any], name: str) -> str:
    value = spec.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"identity.{name}: required, a string")
    return value
