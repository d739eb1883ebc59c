"""Decision time of the sidecar's whole in-memory call path, with 1,000 grants (reported by
bench/proxy.py as ``sidecar_decision_path_us``; ``policy_decision_us`` comes from bench/policy.py,
which times the rules engine alone, when it exists).

One "decision" is what ``strongroom_sidecar.proxy`` does per call before forwarding, in the same
order: grant resolution (``resolution.resolve``), the target check (``targets.check_target``
against the provider's compiled allowed hosts), the grant decision (``decisions.decide``), the
App's rules (``CompiledRules.decide``; the rule set of bench/policy.py when it can be imported,
so ~200 rules), the cached credential lookup and the injection render. ``pre_forward_us`` adds
the rest of the per-call work in ``proxy.py`` that is not I/O: header parsing, the audit event,
query redaction, the forwarded header set and the upstream URL.

Grants are spread over 10 providers and called in a shuffled order so no single dict entry is
hot. Run alone: ``python bench/decision_path.py`` prints JSON.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable, Coroutine
from typing import Any

import yarl
from multidict import CIMultiDict, CIMultiDictProxy

from strongroom_core import audit, policy, rules, targets
from strongroom_core.storage import records
from strongroom_sidecar import decisions, headers, identities, resolution, state
from strongroom_sidecar import settings as settings_module

PROVIDERS = 10
SOURCE_IP = "127.0.0.1"


def app_rules(grants: int) -> list[dict[str, Any]]:
    """bench/policy.py's realistic rule set when importable, else none."""
    try:
        import policy as policy_bench  # bench/policy.py (another engineer's), same folder

        found: list[dict[str, Any]] = policy_bench.app_rules(grants)
    except (ImportError, AttributeError, TypeError):
        return []
    return found


def build_state(grants: int) -> tuple[state.AppState, list[str]]:
    providers: dict[str, policy.ProviderPolicy] = {
        f"p{p}": {
            "type": "secret",
            "allowedHosts": [f"api{p}.example.com", f"*.p{p}.example.com"],
            "injections": [{"type": "bearer"}],
            "defaultField": "token",
        }
        for p in range(PROVIDERS)
    }
    grant_policies: dict[str, policy.GrantPolicy] = {}
    app = state.AppState("default", "bench")
    names = []
    for i in range(grants):
        name = f"grant-{i}"
        grant_policies[name] = {
            "provider": f"p{i % PROVIDERS}",
            "principal": {"kind": "system", "id": f"job-{i}"},
            "scopes": [],
        }
        names.append(name)
    compiled: policy.CompiledPolicy = {
        "namespace": "default",
        "app": "bench",
        "digest": "bench",
        "providers": providers,
        "grants": grant_policies,
        "rules": app_rules(grants),
    }
    app.set_policy(compiled)
    for i, name in enumerate(names):
        record = records.GrantRecord(
            namespace="default",
            name=name,
            uid=f"uid-{i}",
            app="bench",
            provider=f"p{i % PROVIDERS}",
            principal_kind="system",
            principal_id=f"job-{i}",
            sealed="sealed-placeholder",
            version=1,
        )
        app.put_grant(record)
        app.cache_credential(record, {"token": f"token-{i}"})
    app.synced = True
    return app, names


def _calls(names: list[str]) -> list[CIMultiDictProxy[str]]:
    calls = []
    for name in names:
        i = int(name.rsplit("-", 1)[1])
        target = f"https://api{i % PROVIDERS}.example.com/repos/acme/app{i}/issues?state=open"
        raw: CIMultiDict[str] = CIMultiDict(
            {
                "Host": "127.0.0.1:15080",
                "Accept": "application/json",
                "User-Agent": "bench",
                headers.TARGET: target,
                headers.GRANT: name,
            }
        )
        calls.append(CIMultiDictProxy(raw))
    return calls


async def decide_once(
    app: state.AppState, identity: identities.Identity, call: headers.CallHeaders, now: float
) -> Any:
    resolved = await resolution.resolve(app, call, identity)
    record, provider = resolved.record, resolved.provider
    target = targets.check_target(call.target, provider.allowed_hosts, allow_loopback=False)
    decisions.decide(record, app.policy, now)
    assert app.rules is not None
    ruling = app.rules.decide(
        rules.CallFacts(
            grant=record.name,
            provider=record.provider,
            principal_kind=record.principal_kind,
            caller="pod/bench",
            method="GET",
            host=target.host,
            path=target.path_and_query,
            source_ip=SOURCE_IP,
            port=None,
            narrowing=call.narrowing,
        ),
        now,
    )
    if not ruling.allowed:
        raise RuntimeError(f"bench call denied: {ruling.reason}")
    fields = app.cached_credential(record)
    assert fields is not None
    return target, provider.injections.render(fields)


async def pre_forward_once(
    app: state.AppState, identity: identities.Identity, raw: CIMultiDictProxy[str], now: float
) -> Any:
    event: dict[str, Any] = {"id": audit.new_event_id(), "time": audit.now(), "kind": "use"}
    call = headers.parse(raw)
    target, injected = await decide_once(app, identity, call, now)
    event["path"] = audit.redact_query(target.path_and_query)
    url = yarl.URL(target.url, encoded=True)
    outgoing = headers.forwarded(raw, replaced=injected.headers)
    outgoing.update(injected.headers)
    return url, outgoing, event


async def _measure(grants: int, iterations: int, repeats: int) -> dict[str, Any]:
    app, names = build_state(grants)
    identity = identities.Identity(
        settings_module.SidecarSettings(
            control_plane_url="http://127.0.0.1:1", namespace="default", app="bench"
        )
    )
    random.Random(7).shuffle(names)
    raws = _calls(names)
    parsed = [headers.parse(raw) for raw in raws]
    count = len(parsed)
    now = time.time()

    async def decisions_loop() -> None:
        for i in range(iterations):
            await decide_once(app, identity, parsed[i % count], now)

    async def pre_forward_loop() -> None:
        for i in range(iterations):
            await pre_forward_once(app, identity, raws[i % count], now)

    async def median_of(body: Callable[[], Coroutine[Any, Any, None]]) -> float:
        results = []
        for _ in range(repeats):
            began = time.perf_counter_ns()
            await body()
            results.append((time.perf_counter_ns() - began) / iterations / 1000.0)
        return sorted(results)[len(results) // 2]

    await decisions_loop()  # warm-up: caches in targets and injection fill, as on a live sidecar
    return {
        "grants": grants,
        "rules": len(app_rules(grants)),
        "iterations": iterations,
        "decision_us": round(await median_of(decisions_loop), 2),
        "pre_forward_us": round(await median_of(pre_forward_loop), 2),
    }


def measure(grants: int = 1000, iterations: int = 50_000, repeats: int = 5) -> dict[str, Any]:
    return asyncio.run(_measure(grants, iterations, repeats))


if __name__ == "__main__":
    print(json.dumps(measure()))
