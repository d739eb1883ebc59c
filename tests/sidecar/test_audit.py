"""One audit event per call, delivered at least once, stored once; a full buffer fails closed."""

from __future__ import annotations

import json

import aiohttp

from strongroom_core.storage import records
from strongroom_sidecar import app as sidecar_app
from tests import canary
from tests.sidecar.conftest import (
    ControlPlane,
    SidecarFactory,
    Upstream,
    World,
    eventually,
    health_url,
    proxy_url,
)


async def stored_events(world: World) -> list[dict[str, object]]:
    return await world.storage.query_audit(records.AuditQuery(limit=1000))


async def call(
    http: aiohttp.ClientSession, car: sidecar_app.Sidecar, upstream: Upstream, **extra: str
) -> aiohttp.ClientResponse:
    headers = {
        "Strongroom-Target": upstream.url("/echo?q=private"),
        "Strongroom-Grant": "echo-demo",
    }
    headers.update(extra)
    async with http.get(proxy_url(car), headers=headers) as response:
        await response.read()
        return response


async def test_each_call_is_one_event_with_who_what_and_why_but_no_secret(
    world: World,
    upstream: Upstream,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    token = canary.new("audited-token")
    await world.add_grant("echo-demo", {"token": token})
    car = await make_sidecar()
    allowed = await call(
        http,
        car,
        upstream,
        **{
            "Strongroom-Reason": "nightly sync",
            "Strongroom-Context": '{"ticket": "T-7"}',
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        },
    )
    denied = await call(http, car, upstream, **{"Strongroom-Grant": "missing"})
    ids = {allowed.headers["Strongroom-Audit-Id"], denied.headers["Strongroom-Audit-Id"]}

    async def delivered() -> bool:
        return ids <= {e["id"] for e in await stored_events(world)}

    await eventually(delivered)
    events = {e["id"]: e for e in await stored_events(world)}
    use = events[allowed.headers["Strongroom-Audit-Id"]]
    assert use["decision"] == "allow"
    assert use["status"] == 200
    assert (use["grant"], use["provider"], use["principal"]) == (
        "echo-demo",
        "echo",
        "system:billing",
    )
    assert use["caller"] == "pod/billing-test"
    assert use["host"] == f"127.0.0.1:{upstream.port}"
    assert use["path"] == "/echo?q=REDACTED"
    assert use["caller_reason"] == "nightly sync"
    assert use["context"] == {"ticket": "T-7"}
    assert use["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    refusal = events[denied.headers["Strongroom-Audit-Id"]]
    assert (refusal["decision"], refusal["reason"], refusal["status"]) == (
        "deny",
        "grant_not_found",
        404,
    )
    printed = car.audit_stream.getvalue()  # type: ignore[attr-defined]
    assert len(printed.splitlines()) == 2
    everything = printed + json.dumps(list(events.values()))
    assert canary.found_in(everything) == []
    assert "private" not in everything


async def test_full_buffer_refuses_calls_until_the_control_plane_takes_events_again(
    world: World,
    upstream: Upstream,
    control_plane: ControlPlane,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await world.add_grant("echo-demo", {"token": "t"})
    car = await make_sidecar(audit_buffer_size=2)
    await control_plane.stop()
    first = await call(http, car, upstream)
    second = await call(http, car, upstream)
    assert (first.status, second.status) == (200, 200)
    refused = await call(http, car, upstream)
    assert refused.status == 503
    assert refused.headers["Strongroom-Error"] == "audit_unavailable"
    assert refused.headers["Retry-After"] == "5"
    assert len(upstream.seen) == 2  # the refused call was not made

    await control_plane.start()
    ids = {first.headers["Strongroom-Audit-Id"], second.headers["Strongroom-Audit-Id"]}

    async def delivered() -> bool:
        return ids <= {e["id"] for e in await stored_events(world)}

    await eventually(delivered)
    assert (await call(http, car, upstream)).status == 200


async def test_events_held_during_an_outage_are_delivered_once_it_ends_and_stored_once(
    world: World,
    upstream: Upstream,
    control_plane: ControlPlane,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await world.add_grant("echo-demo", {"token": "t"})
    car = await make_sidecar()
    await control_plane.stop()
    ids = [(await call(http, car, upstream)).headers["Strongroom-Audit-Id"] for _ in range(5)]
    await eventually(lambda: car.metrics.audit_delivery_failures >= 2)
    await control_plane.start()

    async def delivered() -> bool:
        return set(ids) <= {e["id"] for e in await stored_events(world)}

    await eventually(delivered)
    # Delivering the same events again (at-least-once) stores nothing new.
    stored = await world.storage.append_audit(
        [e for e in await stored_events(world) if e["id"] in ids]
    )
    assert stored == 0
    assert sorted(e["id"] for e in await stored_events(world) if e["id"] in ids) == sorted(ids)
    assert car.audit.depth == 0


async def test_drop_mode_lets_calls_through_with_a_full_buffer_and_counts_them(
    world: World,
    upstream: Upstream,
    control_plane: ControlPlane,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await world.add_grant("echo-demo", {"token": "t"})
    car = await make_sidecar(audit_buffer_size=1, audit_mode="drop")
    await control_plane.stop()
    statuses = [(await call(http, car, upstream)).status for _ in range(3)]
    assert statuses == [200, 200, 200]
    async with http.get(health_url(car, "/metrics")) as response:
        text = await response.text()
    assert "strongroom_sidecar_audit_dropped_total 2" in text
