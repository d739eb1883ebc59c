"""Providers compiled once per policy update, so the hot path only looks things up.

A compiled provider holds its allowed hosts as a matcher from core ``targets`` and its
injections as core ``injection.CompiledInjections``; a malformed provider entry is kept out of
the map (calls to it answer ``provider_not_found``) and logged by name, instead of failing the
whole policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from strongroom_core import injection, policy, targets
from strongroom_sidecar import logs

log = logs.get("providers")


@dataclass(frozen=True, slots=True)
class CompiledProvider:
    name: str
    type: str
    allowed_hosts: targets.AllowedHosts
    injections: injection.CompiledInjections
    default_field: str


def compile_provider(name: str, wire: policy.ProviderPolicy) -> CompiledProvider:
    default_field = wire.get("defaultField") or (
        "access_token" if wire.get("type") == "oauth2" else "token"
    )
    items = wire.get("injections") or [{"type": "bearer"}]
    compiled = injection.CompiledInjections.compile(
        injection.from_spec(items, where=f"providers.{name}.injections"),
        default_field=default_field,
    )
    return CompiledProvider(
        name=name,
        type=wire.get("type", "secret"),
        allowed_hosts=targets.AllowedHosts.compile(list(wire.get("allowedHosts", []))),
        injections=compiled,
        default_field=default_field,
    )


def compile_providers(compiled: policy.CompiledPolicy) -> dict[str, CompiledProvider]:
    result: dict[str, CompiledProvider] = {}
    for name, wire in (compiled.get("providers") or {}).items():
        try:
            result[name] = compile_provider(name, wire)
        except (KeyError, TypeError, ValueError) as e:
            log.error(
                "provider left out of the compiled policy",
                extra={"fields": {"provider": name, "error": f"{type(e).__name__}: {e}"[:300]}},
            )
    return result
