"""Policy decision time with 1,000 grants and a realistic rule set.

Prints the compile time and the median time of one ``CompiledRules.decide`` call (µs), for
allowed calls and for denied ones, over several rounds; the last line is one JSON object with
``policy_decision_us`` (the allowed-call median, the common case on the hot path).

    .venv/bin/python bench/policy.py [--grants 1000] [--rounds 15] [--calls 20000] [--json]

A benchmark prints numbers; no test asserts on them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import time
import zoneinfo
from typing import Any

from strongroom_core import policy, rules


def app_rules(grants: int) -> list[dict[str, Any]]:
    """What a busy App might carry: global method and path rules, per-kind limits, office
    hours for users, source ranges for agents, and many rules scoped to a few grants each."""
    found: list[dict[str, Any]] = [
        {"name": "no-deletes", "methods": ["GET", "HEAD", "POST", "PATCH", "PUT"]},
        {
            "name": "github-paths",
            "providers": ["github"],
            "paths": ["/repos/acme/**", "/orgs/acme/**", "/user", "/search/*"],
            "hosts": ["api.github.com", "uploads.github.com"],
        },
        {
            "name": "office-hours",
            "principals": ["user", "group"],
            "timeWindows": [
                {
                    "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                    "start": "07:00",
                    "end": "21:00",
                    "zone": "Europe/Berlin",
                },
                {"days": ["Sat"], "start": "10:00", "end": "14:00", "zone": "Europe/Berlin"},
            ],
        },
        {
            "name": "agents-from-cluster",
            "principals": ["agent"],
            "sourceRanges": ["10.0.0.0/8", "172.16.0.0/12", "fd00::/8"],
            "rateLimit": {"requests": 100000, "period": "1m", "per": "caller"},
        },
        {"name": "daily-quota", "quota": {"requests": 10_000_000, "period": "day"}},
    ]
    for index in range(0, grants, 5):
        found.append(
            {
                "grants": [f"grant-{i}" for i in range(index, min(index + 5, grants))],
                "paths": ["/repos/acme/**", "/user", f"/teams/{index}/**"],
            }
        )
    return found


def grant_table(grants: int) -> dict[str, policy.GrantPolicy]:
    table: dict[str, policy.GrantPolicy] = {}
    for index in range(grants):
        kind = ("user", "agent", "group", "system")[index % 4]
        entry: policy.GrantPolicy = {
            "provider": "github",
            "principal": {"kind": kind, "id": f"p{index}"},
            "scopes": ["repo"],
            "restrictions": {
                "methods": ["GET", "POST"],
                "paths": [f"/repos/acme/app{index}/**", "/user"],
                "rateLimit": {"requests": 1_000_000, "period": "1s", "per": "grant"},
            },
        }
        table[f"grant-{index}"] = entry
    return table


def facts(grants: int, *, deny: bool) -> list[rules.CallFacts]:
    found = []
    for index in range(grants):
        kind = ("user", "agent", "group", "system")[index % 4]
        found.append(
            rules.CallFacts(
                grant=f"grant-{index}",
                provider="github",
                principal_kind=kind,
                caller="agent/ci" if kind == "agent" else "pod/web-1",
                method="DELETE" if deny and index % 2 else "GET",
                host="api.github.com",
                path=(
                    f"/repos/acme/app{index}/issues?state=open"
                    if not deny
                    else f"/repos/other/app{index}/issues"
                ),
                source_ip="10.1.2.3",
            )
        )
    return found


def measure(
    compiled: rules.CompiledRules, calls: list[rules.CallFacts], n: int, now: float
) -> float:
    """Mean µs per decision over ``n`` decisions cycling through ``calls``."""
    decide = compiled.decide
    count = len(calls)
    started = time.perf_counter()
    for i in range(n):
        decide(calls[i % count], now + i * 1e-4)
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grants", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--json", action="store_true", help="only print the JSON line")
    args = parser.parse_args()

    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    now = datetime.datetime(2026, 3, 4, 12, 0, tzinfo=berlin).timestamp()  # a Wednesday
    the_rules, table = app_rules(args.grants), grant_table(args.grants)
    started = time.perf_counter()
    compiled = rules.compile(the_rules, table, app="bench")
    compile_ms = (time.perf_counter() - started) * 1e3
    allowed, denied = facts(args.grants, deny=False), facts(args.grants, deny=True)
    assert all(compiled.decide(c, now).allowed for c in allowed[:8])
    assert not compiled.decide(denied[1], now).allowed
    measure(compiled, allowed, args.calls, now)  # warm up caches
    allow_rounds, deny_rounds = [], []
    for round_index in range(args.rounds):
        base = now + round_index * 10
        allow_rounds.append(measure(compiled, allowed, args.calls, base))
        deny_rounds.append(measure(compiled, denied, args.calls, base))
    allow_us = statistics.median(allow_rounds)
    deny_us = statistics.median(deny_rounds)
    per_grant = statistics.mean(compiled.rule_count(g) for g in table)
    if not args.json:
        print(f"grants: {args.grants}, app rules: {len(the_rules)}")
        print(f"rules and limits per grant: {per_grant:.1f}")
        print(f"compile: {compile_ms:.1f} ms")
        print(
            f"decision, allowed: median {allow_us:.2f} µs over {args.rounds} rounds of {args.calls}"
        )
        print(f"decision, denied:  median {deny_us:.2f} µs")
    print(
        json.dumps(
            {
                "policy_decision_us": round(allow_us, 2),
                "policy_denied_us": round(deny_us, 2),
                "policy_compile_ms": round(compile_ms, 1),
                "grants": args.grants,
            }
        )
    )


if __name__ == "__main__":
    main()
