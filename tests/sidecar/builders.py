"""Small builders for sidecar tests: records, compiled policies and a filled AppState."""

from __future__ import annotations

from typing import Any

from strongroom_core import policy
from strongroom_core.storage import records

NAMESPACE = "shop"
APP = "billing"


def grant(
    name: str = "echo-demo",
    *,
    provider: str = "echo",
    kind: records.PrincipalKind = "system",
    principal_id: str = "billing",
    state: records.GrantState = "Ready",
    version: int = 1,
    sealed: str = "sr1.placeholder",
    uid: str | None = None,
    **extra: Any,
) -> records.GrantRecord:
    return records.GrantRecord(
        namespace=NAMESPACE,
        name=name,
        uid=uid or f"uid-{name}",
        app=APP,
        provider=provider,
        principal_kind=kind,
        principal_id=principal_id,
        sealed=sealed,
        state=state,
        version=version,
        **extra,
    )


def provider_policy(
    allowed_hosts: list[str], injections: list[policy.InjectionWire] | None = None
) -> policy.ProviderPolicy:
    return {
        "type": "secret",
        "allowedHosts": allowed_hosts,
        "injections": injections or [{"type": "bearer"}],
        "defaultField": "token",
    }


def compiled_policy(
    providers: dict[str, policy.ProviderPolicy],
    grants: list[records.GrantRecord],
    digest: str = "d1",
) -> policy.CompiledPolicy:
    return {
        "namespace": NAMESPACE,
        "app": APP,
        "digest": digest,
        "providers": providers,
        "grants": {
            g.name: {
                "provider": g.provider,
                "principal": {"kind": g.principal_kind, "id": g.principal_id},
                "scopes": list(g.scopes),
            }
            for g in grants
        },
        "rules": [],
    }
