"""Builders for rule tests: a grant table, calls, and fixed instants in a zone."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Mapping
from typing import Any

from strongroom_core import policy, rules

APP = "demo"


def grant(
    provider: str = "github",
    kind: str = "user",
    restrictions: Mapping[str, Any] | None = None,
) -> policy.GrantPolicy:
    entry: policy.GrantPolicy = {
        "provider": provider,
        "principal": {"kind": kind, "id": "alice"},
        "scopes": [],
    }
    if restrictions is not None:
        entry["restrictions"] = dict(restrictions)  # type: ignore[typeddict-item]
    return entry


def compiled(
    app_rules: list[dict[str, Any]],
    grants: Mapping[str, policy.GrantPolicy] | None = None,
    **options: Any,
) -> rules.CompiledRules:
    return rules.compile(app_rules, grants or {"gh": grant()}, app=APP, **options)


def call(**changes: Any) -> rules.CallFacts:
    facts: dict[str, Any] = {
        "grant": "gh",
        "provider": "github",
        "principal_kind": "user",
        "caller": "pod/web-1",
        "method": "GET",
        "host": "api.github.com",
        "path": "/repos/acme/app/issues",
        "source_ip": "127.0.0.1",
    }
    facts.update(changes)
    return rules.CallFacts(**facts)


def at(local: str, zone: str = "UTC", fold: int = 0) -> float:
    """Unix seconds of a local wall-clock time, e.g. ``at("2026-03-02T10:00", "Europe/Berlin")``."""
    moment = datetime.datetime.fromisoformat(local).replace(
        tzinfo=zoneinfo.ZoneInfo(zone), fold=fold
    )
    return moment.timestamp()


NOON = at("2026-03-04T12:00")
"""A Wednesday."""
