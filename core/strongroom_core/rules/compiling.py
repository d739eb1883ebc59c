"""Compile an App's rules and its Grants' restrictions once per policy update into per-grant
plans, and decide calls against them.

A plan lists, for one grant, only the rules that can apply to it (scoped by grant, provider and
principal kind at compile time; only ``callers`` is left for call time), each as a tuple of
precompiled checks, then its rate limits and quotas with their counters bound. A decision is a
dict lookup, a walk over that short list and, when allowed, the preallocated allow decision.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from strongroom_core import policy
from strongroom_core.rules import checks, clocks, facts, limits, narrowing, paths, specs


class InvalidRules(ValueError):
    """Rules that cannot be compiled. ``problems`` lists ``"<resource>: <field path>: <what>"``,
    e.g. ``App demo: spec.policy.rules[2].timeWindows[0].zone: unknown IANA zone "Mars/Base"``."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class _Rule:
    rule_id: str
    label: str
    callers: frozenset[str] | None
    checks: tuple[checks.Check, ...]


@dataclass(frozen=True, slots=True)
class _Limit:
    rule_id: str
    label: str
    callers: frozenset[str] | None
    limit: limits.RateLimit | limits.Quota


@dataclass(frozen=True, slots=True)
class _Plan:
    provider: str
    rules: tuple[_Rule, ...]
    limits: tuple[_Limit, ...]
    uses_paths: bool
    allowed: facts.Decision
    scoped_limits: bool
    """Some limit is scoped to callers (else every limit applies to every call)."""


class CompiledRules:
    """What :func:`compile` returns; :meth:`decide` is the hot path."""

    def __init__(self, app: str, plans: dict[str, _Plan], counters: limits.Counters) -> None:
        self.app = app
        self._plans = plans
        self.counters = counters
        """Limit state; pass this object as ``previous`` to the next compile to keep counts."""

    @property
    def grants(self) -> frozenset[str]:
        return frozenset(self._plans)

    def rule_count(self, grant: str) -> int:
        """How many rules and limits can apply to ``grant`` (0 for an unknown grant)."""
        plan = self._plans.get(grant)
        return 0 if plan is None else len(plan.rules) + len(plan.limits)

    def decide(self, call: facts.CallFacts, now: float) -> facts.Decision:
        """Allow or deny ``call`` at unix time ``now``. Default deny: a grant the policy does
        not list is denied. Consumes rate-limit tokens and quota only when allowing."""
        plan = self._plans.get(call.grant)
        if plan is None:
            return _deny(f"grant {call.grant} is not in the compiled policy of App {self.app}")
        if call.provider != plan.provider:
            return _deny(f"grant {call.grant} belongs to provider {plan.provider}, not this call's")
        cut = call.narrowing
        parts: list[str] | None = None
        if plan.uses_paths or (cut is not None and cut.paths is not None):
            normalised = paths.normalise(call.path)
            parts = paths.segments(normalised)
            if "." in normalised and paths.has_dot_segment(parts):
                parts = None
        caller = call.caller
        for rule in plan.rules:
            if rule.callers is not None and caller not in rule.callers:
                continue
            for check in rule.checks:
                denial = check.denial(call, parts, now)
                if denial is not None:
                    return _deny(f"{denial} ({rule.label})", rule.rule_id)
        if cut is not None:
            denial = _narrowing_denial(cut, call, parts)
            if denial is not None:
                return _deny(f"{denial} (narrowing asked by the caller)", narrowing.HEADER)
        if plan.limits:
            denied = self._limit(plan, call, now)
            if denied is not None:
                return denied
        return plan.allowed

    def _limit(self, plan: _Plan, call: facts.CallFacts, now: float) -> facts.Decision | None:
        applying: tuple[_Limit, ...] | list[_Limit] = plan.limits
        if plan.scoped_limits:
            applying = [i for i in applying if i.callers is None or call.caller in i.callers]
        for item in applying:
            limit = item.limit
            key = limits.key_for(limit.spec.per, call.grant, call.caller)
            wait = limit.wait(key, now)
            if wait > 0:
                return _limited(item, call, key, now, wait)
        for item in applying:
            limit = item.limit
            limit.consume(limits.key_for(limit.spec.per, call.grant, call.caller), now)
        return None


def _deny(reason: str, rule: str | None = None) -> facts.Decision:
    return facts.Decision(False, reason, rule, "policy_denied")


def _whom(per: str, call: facts.CallFacts) -> str:
    if per == "grant":
        return f"grant {call.grant}"
    if per == "caller":
        return f"caller {checks.shorten(call.caller)}"
    return f"grant {call.grant} and caller {checks.shorten(call.caller)}"


def _limited(
    item: _Limit, call: facts.CallFacts, key: Any, now: float, wait: float
) -> facts.Decision:
    limit = item.limit
    whom = _whom(limit.spec.per, call)
    if isinstance(limit, limits.RateLimit):
        reason = f"rate limit {limit.spec.text} for {whom} exceeded ({item.label})"
        return facts.Decision(False, reason, item.rule_id, "rate_limited", wait)
    spec = limit.spec
    resets = clocks.describe_instant(limit.resets_at(key, now), spec.zone)
    reason = f"quota {spec.requests}/{spec.period} for {whom} used up until {resets} ({item.label})"
    return facts.Decision(False, reason, item.rule_id, "quota_exceeded", wait)


def _narrowing_denial(
    cut: narrowing.Narrowing, call: facts.CallFacts, parts: list[str] | None
) -> str | None:
    if cut.methods is not None and call.method not in cut.methods:
        return f"method {checks.shorten(call.method)} not in [{cut.method_text}]"
    if cut.paths is not None:
        if parts is None:
            return "path has '.' or '..' segments"
        if not any(pattern.matches(parts) for pattern in cut.paths):
            shown = checks.shorten(paths.normalise(call.path))
            return f"path {shown} matches none of [{cut.path_text}]"
    if cut.hosts is not None and not cut.hosts.allows(call.host, call.port):
        return f"host {checks.shorten(call.host)} not in [{cut.host_text}]"
    return None


# --- compiling ---------------------------------------------------------------------------------


def _checks_of(spec: specs.RuleSpec) -> tuple[checks.Check, ...]:
    found: list[checks.Check] = []
    if spec.methods is not None:
        found.append(checks.Methods(spec.methods))
    if spec.hosts is not None:
        found.append(checks.Hosts(spec.hosts))
    if spec.paths is not None:
        found.append(checks.Paths(spec.paths))
    if spec.source_ranges is not None:
        found.append(checks.Sources(spec.source_ranges))
    if spec.windows is not None:
        found.append(checks.Windows(spec.windows))
    return tuple(found)


def _fingerprint(origin: str, raw: Any, kind: str) -> str:
    return f"{origin}:{kind}:" + json.dumps(raw, sort_keys=True, default=str)


def _limits_of(
    spec: specs.RuleSpec, rule: _Rule, origin: str, raw: Any, counters: limits.Counters
) -> list[_Limit]:
    found: list[_Limit] = []
    if spec.rate_limit is not None:
        table = counters.table(_fingerprint(origin, raw, "rateLimit"))
        limit: limits.RateLimit | limits.Quota = limits.RateLimit(spec.rate_limit, table)
        found.append(_Limit(rule.rule_id, rule.label, rule.callers, limit))
    if spec.quota is not None:
        table = counters.table(_fingerprint(origin, raw, "quota"))
        found.append(
            _Limit(rule.rule_id, rule.label, rule.callers, limits.Quota(spec.quota, table))
        )
    return found


@dataclass(frozen=True, slots=True)
class _AppRule:
    spec: specs.RuleSpec | None
    """``None`` when the rule is invalid (non-strict compile): it then covers every grant."""
    rule: _Rule
    limits: tuple[_Limit, ...]

    def covers(self, provider: str, principal_kind: str, grant: str) -> bool:
        spec = self.spec
        if spec is None:
            return True
        return (
            (spec.grants is None or grant in spec.grants)
            and (spec.providers is None or provider in spec.providers)
            and (spec.principals is None or principal_kind in spec.principals)
        )


def compile(
    app_rules: Sequence[Mapping[str, Any]],
    grants: Mapping[str, policy.GrantPolicy],
    *,
    app: str = "",
    strict: bool = True,
    previous: CompiledRules | None = None,
) -> CompiledRules:
    """Compile the App's rules (``spec.policy.rules`` / ``CompiledPolicy["rules"]``) and each
    grant's wire entry (provider, principal and ``restrictions``).

    ``strict`` raises :class:`InvalidRules` naming every bad field. Without it (the sidecar, which
    must keep serving the rest) a bad App rule denies every call it might cover and bad Grant
    restrictions deny every call of that grant, each with a reason naming the field.
    ``previous`` carries the counters of unchanged rate limits and quotas over.
    """
    counters = previous.counters if previous is not None else limits.Counters()
    live: set[str] = set()
    problems: list[str] = []
    app_rules_compiled: list[_AppRule] = []
    for index, raw in enumerate(app_rules):
        rule_id = f"spec.policy.rules[{index}]"
        spec, found = specs.read(raw, rule_id, selectors=True)
        name = f" {json.dumps(spec.name)}" if spec.name else ""
        label = f"rule {index}{name} of App {app}"
        if found:
            problems.extend(f"App {app}: {error}" for error in found)
            deny = checks.DenyAll(
                f"the rule is invalid ({found[0]}); calls it may cover are denied"
            )
            app_rules_compiled.append(_AppRule(None, _Rule(rule_id, label, None, (deny,)), ()))
            continue
        rule = _Rule(rule_id, label, spec.callers, _checks_of(spec))
        found_limits = _limits_of(spec, rule, "app", raw, counters)
        live.update(_fingerprint("app", raw, kind) for kind in ("rateLimit", "quota"))
        app_rules_compiled.append(_AppRule(spec, rule, tuple(found_limits)))
    plans: dict[str, _Plan] = {}
    for grant_name, entry in grants.items():
        provider, kind, restrictions = _grant_facts(entry)
        rules = [
            item.rule for item in app_rules_compiled if item.covers(provider, kind, grant_name)
        ]
        plan_limits = [
            lim
            for item in app_rules_compiled
            if item.covers(provider, kind, grant_name)
            for lim in item.limits
        ]
        if restrictions is not None:
            rule_id = f"Grant {grant_name} spec.restrictions"
            label = f"restrictions of Grant {grant_name}"
            spec, found = specs.read(restrictions, "spec.restrictions", selectors=False)
            if found:
                problems.extend(f"Grant {grant_name}: {error}" for error in found)
                deny = checks.DenyAll(f"the restrictions are invalid ({found[0]})")
                rules.append(_Rule(rule_id, label, None, (deny,)))
            else:
                rule = _Rule(rule_id, label, None, _checks_of(spec))
                if rule.checks:
                    rules.append(rule)
                origin = f"grant/{grant_name}"
                plan_limits.extend(_limits_of(spec, rule, origin, restrictions, counters))
                live.update(_fingerprint(origin, restrictions, k) for k in ("rateLimit", "quota"))
        rules = [rule for rule in rules if rule.checks]
        count = len(rules) + len(plan_limits)
        reason = (
            f"grant {grant_name}: no rules apply"
            if count == 0
            else f"grant {grant_name}: passed {count} rule{'s' if count != 1 else ''}"
        )
        plans[grant_name] = _Plan(
            provider=provider,
            rules=tuple(rules),
            limits=tuple(plan_limits),
            uses_paths=any(isinstance(c, checks.Paths) for r in rules for c in r.checks),
            allowed=facts.Decision(True, reason, None),
            scoped_limits=any(item.callers is not None for item in plan_limits),
        )
    if problems and strict:
        raise InvalidRules(problems)
    for fingerprint in list(counters.by_fingerprint):
        if fingerprint not in live:
            del counters.by_fingerprint[fingerprint]
    return CompiledRules(app, plans, counters)


def _grant_facts(entry: Any) -> tuple[str, str, Any]:
    """``(provider, principal kind, restrictions or None)`` of a wire entry, tolerating junk
    (a grant with an unreadable entry matches no scoped rule but every unscoped one)."""
    if not isinstance(entry, Mapping):
        return "", "", {"invalid": True}
    provider = entry.get("provider")
    principal = entry.get("principal")
    kind = principal.get("kind") if isinstance(principal, Mapping) else None
    restrictions = entry.get("restrictions")
    return (
        provider if isinstance(provider, str) else "",
        kind if isinstance(kind, str) else "",
        restrictions if restrictions else None,
    )


def compile_policy(
    compiled: policy.CompiledPolicy, *, previous: CompiledRules | None = None
) -> CompiledRules:
    """The sidecar's entry point: compile the rules of a policy from the watch stream,
    non-strict (bad parts fail closed, the rest keeps working)."""
    return compile(
        compiled.get("rules") or [],
        compiled.get("grants") or {},
        app=compiled.get("app", ""),
        strict=False,
        previous=previous,
    )
