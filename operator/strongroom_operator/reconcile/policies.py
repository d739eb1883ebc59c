"""Compiled policy per App: what the App's sidecars need to decide and inject, served to them
over the control plane's watch stream (never a ConfigMap that `edit` could rewrite)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from strongroom_core import injection, policy
from strongroom_core.resources import models
from strongroom_core.storage import errors as storage_errors
from strongroom_operator.reconcile import context

POLICY_DOCUMENT = "policy"


def compile_policy(
    app: models.App,
    providers: Iterable[models.Provider],
    grants: Iterable[models.Grant],
) -> policy.CompiledPolicy:
    """Only resources of ``app`` (same namespace, ``appRef`` naming it) are taken."""
    namespace, name = app.key
    mine_providers = {
        p.meta.name: _provider_policy(p)
        for p in sorted(providers, key=lambda p: p.meta.name)
        if p.meta.namespace == namespace and p.app_ref == name
    }
    mine_grants: dict[str, policy.GrantPolicy] = {
        g.meta.name: {
            "provider": g.provider_ref,
            "principal": {"kind": g.principal.kind, "id": g.principal.id},
            "scopes": list(g.scopes),
        }
        for g in sorted(grants, key=lambda g: g.meta.name)
        if g.meta.namespace == namespace and g.app_ref == name
    }
    body: dict[str, Any] = {
        "namespace": namespace,
        "app": name,
        "providers": mine_providers,
        "grants": mine_grants,
        "rules": [dict(rule) for rule in app.policy_rules],
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return {
        "namespace": namespace,
        "app": name,
        "digest": digest,
        "providers": mine_providers,
        "grants": mine_grants,
        "rules": body["rules"],
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


def _provider_policy(provider: models.Provider) -> policy.ProviderPolicy:
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
        }
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
