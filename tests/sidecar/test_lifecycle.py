"""Readiness, key rotation, watch reconnects, load shedding, metrics and graceful stop."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from strongroom_core.storage import records
from strongroom_sidecar import app as sidecar_app
from tests import canary
from tests.sidecar.conftest import (
    NS,
    ControlPlane,
    SidecarFactory,
    Upstream,
    World,
    caught_up,
    eventually,
    health_url,
    proxy_url,
)


async def seen_authorization(
    http: aiohttp.ClientSession, car: sidecar_app.Sidecar, upstream: Upstream, grant: str
) -> str:
    async with http.get(
        proxy_url(car),
        headers={"Strongroom-Target": upstream.url("/echo"), "Strongroom-Grant": grant},
    ) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["headers"]["Authorization"])


async def test_readyz_flips_only_after_keys_and_the_first_synced_snapshot(
    world: World,
    control_plane: ControlPlane,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await control_plane.stop()
    car = await make_sidecar(wait_ready=False)
    async with http.get(health_url(car, "/healthz")) as response:
        assert response.status == 200
    async with http.get(health_url(car, "/readyz")) as response:
        assert response.status == 503
        body = await response.json(content_type=None)
        assert body["code"] == "not_ready"
        assert "keys" in body["detail"]
    await control_plane.start()
    await car.wait_ready()
    async with http.get(health_url(car, "/readyz")) as response:
        assert response.status == 200


async def test_rotated_app_key_is_fetched_without_restart(
    world: World,
    upstream: Upstream,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await world.add_grant("echo-demo", {"token": "before-rotation"})
    car = await make_sidecar()
    assert await seen_authorization(http, car, upstream, "echo-demo") == "Bearer before-rotation"
    old_keyring = car.state.keyring
    assert old_keyring is not None
    rotated = await world.rotate_app_key()
    await world.reseal("echo-demo", {"token": "after-rotation"})
    await caught_up(car, world.storage)
    # As if the KEYS event had been missed: the blob names a key this sidecar lacks.
    car.state.set_keyring(old_keyring)
    fetches = car.metrics.key_fetches
    assert await seen_authorization(http, car, upstream, "echo-demo") == "Bearer after-rotation"
    assert car.metrics.key_fetches == fetches + 1
    assert car.state.keyring is not None
    assert rotated.active.kid in car.state.keyring.kids()


async def test_watch_reconnects_after_a_control_plane_restart_and_resumes(
    world: World,
    upstream: Upstream,
    control_plane: ControlPlane,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await world.add_grant("echo-demo", {"token": "t1"})
    car = await make_sidecar()
    await control_plane.stop()
    await eventually(lambda: not car.metrics.watch_connected)
    await world.add_grant("while-away", {"token": "t2"})
    await control_plane.start()
    await caught_up(car, world.storage)
    assert car.metrics.watch_reconnects >= 1
    assert await seen_authorization(http, car, upstream, "while-away") == "Bearer t2"
    assert car.ready


async def test_watch_gone_after_the_log_was_pruned_resyncs_from_a_fresh_snapshot(
    world: World,
    upstream: Upstream,
    control_plane: ControlPlane,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await world.add_grant("echo-demo", {"token": "t1"})
    await world.add_grant("doomed", {"token": "t2"})
    car = await make_sidecar()
    assert "doomed" in car.state.grants
    await control_plane.stop()
    world.storage.max_changes = 2
    await world.storage.delete_grant(NS, "doomed")
    for index in range(6):
        await world.add_grant(f"new-{index}", {"token": f"n{index}"})
    await control_plane.start()
    await eventually(lambda: "new-5" in car.state.grants and "doomed" not in car.state.grants)
    assert await seen_authorization(http, car, upstream, "new-5") == "Bearer n5"


async def test_calls_over_the_concurrency_limit_are_shed_at_once(
    world: World,
    upstream: Upstream,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await world.add_grant("echo-demo", {"token": "t"})
    car = await make_sidecar(max_concurrency=1)
    held = asyncio.create_task(
        http.get(
            proxy_url(car),
            headers={"Strongroom-Target": upstream.url("/wait"), "Strongroom-Grant": "echo-demo"},
        )
    )
    await eventually(lambda: len(upstream.seen) == 1)
    async with http.get(
        proxy_url(car),
        headers={"Strongroom-Target": upstream.url("/echo"), "Strongroom-Grant": "echo-demo"},
    ) as response:
        assert response.status == 503
        assert response.headers["Strongroom-Error"] == "overloaded"
        assert response.headers["Retry-After"] == "1"
    upstream.release.set()
    first = await held
    assert first.status == 200
    first.release()
    async with http.get(health_url(car, "/metrics")) as response:
        assert "strongroom_sidecar_shed_total 1" in await response.text()


async def test_metrics_count_calls_and_carry_no_secret(
    world: World,
    upstream: Upstream,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    token = canary.new("metrics-token")
    await world.add_grant("echo-demo", {"token": token})
    car = await make_sidecar()
    await seen_authorization(http, car, upstream, "echo-demo")
    async with http.get(proxy_url(car), headers={"Strongroom-Grant": "echo-demo"}) as response:
        assert response.status == 400
    async with http.get(health_url(car, "/metrics")) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    assert 'strongroom_sidecar_requests_total{status_class="2xx",decision="allow"} 1' in text
    assert 'strongroom_sidecar_refusals_total{code="missing_target"} 1' in text
    assert "strongroom_sidecar_upstream_latency_seconds_count 1" in text
    assert "strongroom_sidecar_ready 1" in text
    assert "strongroom_sidecar_watch_connected 1" in text
    assert canary.found_in(text) == []
    assert "echo-demo" not in text


async def test_stop_lets_in_flight_calls_finish_and_flushes_audit(
    world: World,
    upstream: Upstream,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await world.add_grant("echo-demo", {"token": "t"})
    car = await make_sidecar(audit_flush_interval=30.0)
    in_flight = asyncio.create_task(
        http.get(
            proxy_url(car),
            headers={"Strongroom-Target": upstream.url("/wait"), "Strongroom-Grant": "echo-demo"},
        )
    )
    await eventually(lambda: len(upstream.seen) == 1)
    stopping = asyncio.create_task(car.stop())
    await asyncio.sleep(0.1)
    assert not car.ready
    upstream.release.set()
    response = await in_flight
    assert response.status == 200
    audit_id = response.headers["Strongroom-Audit-Id"]
    response.release()
    await stopping
    stored = await world.storage.query_audit(records.AuditQuery())
    assert audit_id in {e["id"] for e in stored}
    lines = car.audit_stream.getvalue().splitlines()  # type: ignore[attr-defined]
    assert audit_id in {json.loads(line)["id"] for line in lines}
