"""Compiled policy per App: what the App's sidecars need to decide, inject and refresh, served
to them over the control plane's watch stream (never a ConfigMap that `edit` could rewrite).

OAuth2 Providers carry their client secret sealed under the App's active data key
(:func:`seal_client_secrets`): the sidecar refreshes tokens and never reads Kubernetes Secrets.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from strongroom_core import injection, policy, rules
from strongroom_core.resources import models
from strongroom_core.sealing import providersecrets
from strongroom_core.storage import errors as storage_errors
from strongroom_operator.reconcile import context, outcomes, secretrefs

POLICY_DOCUMENT = "policy"


DEFAULT_SECRET_KEY = "clientSecret"  # noqa: S105 -- a Secret key name, not a secret


@dataclass(frozen=True, slots=True)
class SealedClientSecret:
    sealed: str
    digest: str


async def seal_client_secrets(
    ctx: context.ReconcileContext, app: models.App, providers: Iterable[models.Provider]
) -> tuple[dict[str, SealedClientSecret], dict[models.Ref, outcomes.Outcome]]:
    """Resolve and seal the client secret of each OAuth2 Provider of ``app`` that needs one.

    Returns the sealed secrets by Provider name and an outcome for every Provider of the App:
    Ready, or Pending naming ``spec.oauth2.clientSecretRef`` and what to do. A Provider without
    its secret is still compiled (its current tokens work); only refreshing waits for it.
    """
    namespace, name = app.key
    sealed: dict[str, SealedClientSecret] = {}
    results: dict[models.Ref, outcomes.Outcome] = {}
    keyring = None
    for provider in providers:
        if provider.meta.namespace != namespace or provider.app_ref != name:
            continue
        oauth2 = provider.oauth2
        if oauth2 is None or oauth2.client_auth_method == "none":
            results[provider.ref] = outcomes.READY
            continue
        try:
            secret = await _client_secret(ctx, namespace, oauth2.client_secret_ref)
        except _Missing as missing:
            results[provider.ref] = outcomes.pending("ClientSecretMissing", str(missing))
            continue
        if keyring is None:
            keyring = await ctx.key_service.ensure_app_keys(namespace, name)
        key = keyring.active
        sealed[provider.meta.name] = SealedClientSecret(
            sealed=providersecrets.seal_client_secret(
                key, secret, namespace=namespace, app=name, provider=provider.meta.name
            ),
            digest=providersecrets.secret_digest(key, secret),
        )
        results[provider.ref] = outcomes.READY
    return sealed, results


class _Missing(Exception):
    """The client secret cannot be had; the message is the Provider's status message."""


async def client_secret_or_none(
    ctx: context.ReconcileContext, namespace: str, ref: models.SecretKeyRef | None
) -> str | None:
    """The client secret ``ref`` names, or ``None`` when it cannot be had now (the Provider's
    status says why). For the source digest of client-credentials Grants."""
    try:
        return await _client_secret(ctx, namespace, ref)
    except _Missing:
        return None


async def _client_secret(
    ctx: context.ReconcileContext, namespace: str, ref: models.SecretKeyRef | None
) -> str:
    if ref is None:
        raise _Missing(
            "spec.oauth2.clientSecretRef: required unless spec.oauth2.clientAuthMethod is none; "
            "name the Secret holding the client secret"
        )
    key = ref.key or DEFAULT_SECRET_KEY
    if ctx.secrets is None:
        raise _Missing(
            f'spec.oauth2.clientSecretRef: Secret "{ref.name}" cannot be read here (no Secret '
            "source); tokens are not refreshed until it can"
        )
    try:
        data = await ctx.secrets(namespace, ref.name)
    except secretrefs.SecretReadError as e:
        raise _Missing(f"spec.oauth2.clientSecretRef: {e}; will retry") from None
    if data is None:
        raise _Missing(
            f'spec.oauth2.clientSecretRef: Secret "{ref.name}" not found in namespace '
            f'"{namespace}"; create it with key "{key}" holding the client secret (dev mode: a '
            "v1 Secret document in the folder)"
        )
    value = data.get(key)
    if not value:
        raise _Missing(
            f'spec.oauth2.clientSecretRef.key: Secret "{ref.name}" has no (non-empty) key '
            f'"{key}"; add it, or set spec.oauth2.clientSecretRef.key to the key that holds '
            "the client secret"
        )
    return value


def compile_policy(
    app: models.App,
    providers: Iterable[models.Provider],
    grants: Iterable[models.Grant],
    client_secrets: Mapping[str, SealedClientSecret] | None = None,
    agents: Mapping[str, policy.AgentPolicy] | None = None,
) -> policy.CompiledPolicy:
    """Only resources of ``app`` (same namespace, ``appRef`` naming it) are taken.
    ``client_secrets`` (from :func:`seal_client_secrets`) go into the OAuth2 Providers;
    ``agents`` (from ``reconcile.agents.agent_policies``) become ``agents``; the App's identity
    settings, rules and each Grant's restrictions are carried as ``identity``, ``rules`` and
    ``grants[*].restrictions``."""
    namespace, name = app.key
    secrets = client_secrets or {}
    mine_providers = {
        p.meta.name: _provider_policy(p, secrets.get(p.meta.name))
        for p in sorted(providers, key=lambda p: p.meta.name)
        if p.meta.namespace == namespace and p.app_ref == name
    }
    grant_list = list(grants)
    app_rules, restrictions = rules.to_wire(app, grant_list)
    mine_grants: dict[str, policy.GrantPolicy] = {
        g.meta.name: {
            "provider": g.provider_ref,
            "principal": {"kind": g.principal.kind, "id": g.principal.id},
            "scopes": list(g.scopes),
        }
        for g in sorted(grant_list, key=lambda g: g.meta.name)
        if g.meta.namespace == namespace and g.app_ref == name
    }
    for grant_name, restricted in restrictions.items():
        if grant_name in mine_grants:
            mine_grants[grant_name]["restrictions"] = restricted
    body: dict[str, Any] = {
        "namespace": namespace,
        "app": name,
        "providers": mine_providers,
        "grants": mine_grants,
        "rules": [dict(rule) for rule in app_rules],
        # The control plane authenticates a sidecar only for a pod running as one of these.
        "serviceAccounts": sorted(app.service_accounts),
    }
    if app.identity is not None:
        body["identity"] = identity_wire(app.identity)
    if agents:
        body["agents"] = {k: agents[k] for k in sorted(agents)}
    compiled: policy.CompiledPolicy = {
        "namespace": namespace,
        "app": name,
        "digest": policy_digest(body),
        "providers": mine_providers,
        "grants": mine_grants,
        "rules": body["rules"],
        "serviceAccounts": body["serviceAccounts"],
    }
    if "identity" in body:
        compiled["identity"] = body["identity"]
    if "agents" in body:
        compiled["agents"] = body["agents"]
    return compiled


def policy_digest(body: Mapping[str, Any]) -> str:
    """The ``digest`` of a compiled policy body (every field but ``digest`` itself)."""
    view = _digest_view({k: v for k, v in body.items() if k != "digest"})
    return hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()


def identity_wire(identity: models.Identity) -> policy.IdentityWire:
    return {
        "issuer": identity.issuer,
        "jwksURL": identity.jwks_url,
        "audiences": list(identity.audiences),
        "algorithms": list(identity.algorithms),
        "claims": {"userId": identity.user_id_claim, "groups": identity.groups_claim},
    }


async def publish_policy(ctx: context.ReconcileContext, compiled: policy.CompiledPolicy) -> bool:
    """Store the compiled policy if it changed (compare-and-swap); True when written."""
    namespace, app = compiled["namespace"], compiled["app"]
    body: dict[str, Any] = dict(compiled)
    for _ in range(5):
        stored = await ctx.storage.get_document(namespace, app, POLICY_DOCUMENT)
        if stored is not None and stored.body.get("digest") == compiled["digest"]:
            return False
        try:
            await ctx.storage.put_document(
                namespace, app, POLICY_DOCUMENT, body, None if stored is None else stored.version
            )
        except (storage_errors.ConflictError, storage_errors.AlreadyExistsError):
            continue
        return True
    raise storage_errors.ConflictError(f"policy of App {namespace}/{app}", None, None)


def _digest_view(body: dict[str, Any]) -> dict[str, Any]:
    """The body without sealed secrets (randomised on every seal); their keyed digests stay,
    so the digest changes exactly when a secret or the App's active key does."""
    view = copy.deepcopy(body)
    for provider in view["providers"].values():
        provider.get("oauth2", {}).pop("clientSecretSealed", None)
    return view


def _provider_policy(
    provider: models.Provider, secret: SealedClientSecret | None = None
) -> policy.ProviderPolicy:
    compiled: policy.ProviderPolicy = {
        "type": provider.type,
        "allowedHosts": list(provider.allowed_hosts),
        "injections": [_injection_wire(i) for i in provider.injections],
        "defaultField": provider.default_field,
    }
    if provider.oauth2 is not None:
        compiled["oauth2"] = {
            "tokenURL": provider.oauth2.token_url,
            "clientId": provider.oauth2.client_id,
            "clientAuthMethod": provider.oauth2.client_auth_method,
            "refreshMarginSeconds": provider.oauth2.refresh_margin_seconds,
            "tokenResponse": token_response_paths(provider.oauth2.token_response),
            "scopeSeparator": provider.oauth2.scope_separator,
        }
        if secret is not None:
            compiled["oauth2"]["clientSecretSealed"] = secret.sealed
            compiled["oauth2"]["clientSecretDigest"] = secret.digest
    return compiled


def _injection_wire(item: injection.Injection) -> policy.InjectionWire:
    wire: policy.InjectionWire = {"type": item.type}
    if item.name is not None:
        wire["name"] = item.name
    if item.format is not None:
        wire["format"] = item.format
    if item.type == "basic":
        wire["username"] = item.username
        wire["password"] = item.password
    return wire


def token_response_paths(mapping: models.TokenResponseMapping) -> dict[str, str]:
    """The mapping in the wire/`tokens.normalize` spelling."""
    return {
        "accessToken": mapping.access_token,
        "refreshToken": mapping.refresh_token,
        "expiresIn": mapping.expires_in,
        "expiresAt": mapping.expires_at,
        "tokenType": mapping.token_type,
        "scope": mapping.scope,
    }
