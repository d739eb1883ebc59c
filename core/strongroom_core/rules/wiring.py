"""The wire form of rules, built from parsed resources: what the operator puts into the
compiled policy (``CompiledPolicy["rules"]`` and ``GrantPolicy["restrictions"]``).

The wire spelling is the CRDs' own, with defaults applied, so docs/policy.md describes both and a
rule reads the same in a manifest, in the stored policy and in a reason.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, cast

from strongroom_core import policy
from strongroom_core.resources import models


def app_rules(app: models.App) -> list[policy.RuleWire]:
    """``spec.policy.rules`` of a parsed App as wire rules (deep copies: plain lists/dicts)."""
    return [cast(policy.RuleWire, _plain(rule)) for rule in app.policy_rules]


def restrictions(grant: models.Grant) -> policy.RestrictionsWire | None:
    """A Grant's ``spec.restrictions`` as wire, or ``None`` when it restricts nothing."""
    given = grant.restrictions
    wire: policy.RestrictionsWire = {}
    if given.methods:
        wire["methods"] = list(given.methods)
    if given.paths:
        wire["paths"] = list(given.paths)
    if given.hosts:
        wire["hosts"] = list(given.hosts)
    if given.time_windows:
        wire["timeWindows"] = [cast(policy.TimeWindowWire, _plain(w)) for w in given.time_windows]
    if given.source_ranges:
        wire["sourceRanges"] = list(given.source_ranges)
    if given.rate_limit:
        wire["rateLimit"] = cast(policy.RateLimitWire, _plain(given.rate_limit))
    if given.quota:
        wire["quota"] = cast(policy.QuotaWire, _plain(given.quota))
    return wire or None


def to_wire(
    app: models.App, grants: Iterable[models.Grant]
) -> tuple[list[policy.RuleWire], dict[str, policy.RestrictionsWire]]:
    """The App's wire rules and, by grant name, the restrictions of those of ``grants`` that
    belong to ``app`` and restrict something. Put the first into ``CompiledPolicy["rules"]``
    and each of the second into its ``GrantPolicy["restrictions"]``."""
    namespace, name = app.key
    by_grant: dict[str, policy.RestrictionsWire] = {}
    for grant in grants:
        if grant.meta.namespace != namespace or grant.app_ref != name:
            continue
        wire = restrictions(grant)
        if wire is not None:
            by_grant[grant.meta.name] = wire
    return app_rules(app), by_grant


def _plain(value: Any) -> Any:
    """JSON-ready copy: tuples and mappings become lists and dicts."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return copy.copy(value)
