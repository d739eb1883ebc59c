"""A 401 from the upstream: refresh only if the stored generation is still the one whose token
got the 401 (else just use the newer token), then retry the call once. Bodies up to
``retry_body_limit`` are sent again intact; larger ones stream and the 401 reaches the caller."""

from __future__ import annotations

import asyncio
import hashlib
import os

import aiohttp

from strongroom_core.sealing import credentials
from tests.refresh import harness, scenario
from tests.refresh import provider as provider_module

SidecarFactory = harness.SidecarFactory
Endpoint = provider_module.TokenEndpoint
Api = provider_module.Api
World = harness.RefreshWorld


async def test_401_refreshes_once_and_retries_once_for_many_concurrent_calls(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    setup = await scenario.prepare(world, token_endpoint, api, expires_in=3600)
    car = await scenario.sidecar(make_sidecar)
    api.refuse.add(setup.first.access_token)  # revoked at the API before its expiry

    results = await asyncio.gather(*(harness.call(http, car, api.url()) for _ in range(30)))

    assert [status for status, _, _ in results] == [200] * 30
    assert len(token_endpoint.calls) == 1
    assert (await world.grant()).generation == 2
    assert api.seen.count(setup.first.access_token) == 30
    assert api.seen.count(token_endpoint.last_access or "") == 30, "one retry each"
    uses = [e for e in harness.audit_events(car) if e["kind"] == "use"]
    assert len(uses) == 30
    assert all(e["refreshed"] and e["status"] == 200 for e in uses)


async def test_401_after_the_token_already_moved_on_uses_the_newer_token_without_refreshing(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    setup = await scenario.prepare(world, token_endpoint, api, expires_in=3600)
    car = await scenario.sidecar(make_sidecar)
    api.refuse.add(setup.first.access_token)
    newer = token_endpoint.issue()

    async def another_pod_refreshes_meanwhile(token: str) -> None:
        if token != setup.first.access_token:
            return
        current = await world.grant()
        key = (await world.keyring()).active
        await world.replace(
            sealed=credentials.seal_for_record(key, current, token_endpoint.credential(newer)),
            generation=current.generation + 1,
            token_expires_at=newer.expires_at,
        )
        await harness.eventually(lambda: car.state.grants[harness.GRANT].generation == 2)

    api.before = another_pod_refreshes_meanwhile

    status, _, _ = await harness.call(http, car, api.url())

    assert status == 200
    assert api.seen == [setup.first.access_token, newer.access_token]
    assert token_endpoint.calls == [], "the stored generation had moved on: no refresh"
    (use,) = [e for e in harness.audit_events(car) if e["kind"] == "use"]
    assert use["refreshed"]


async def test_a_second_401_reaches_the_caller_after_one_refresh(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await scenario.prepare(world, token_endpoint, api, expires_in=3600)
    car = await scenario.sidecar(make_sidecar)
    api.always_refuse = True

    status, body, headers = await harness.call(http, car, api.url())

    assert status == 401
    assert "Strongroom-Error" not in headers, "the upstream's own 401"
    assert body == {"message": "Bad credentials"}
    assert len(token_endpoint.calls) == 1
    assert len(api.seen) == 2


async def test_retried_call_sends_the_same_body_again(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    setup = await scenario.prepare(world, token_endpoint, api, expires_in=3600)
    car = await scenario.sidecar(make_sidecar, retry_body_limit=64 * 1024)
    api.refuse.add(setup.first.access_token)
    payload = os.urandom(60 * 1024)

    status, body, _ = await harness.call(http, car, api.url(), method="POST", data=payload)

    assert status == 200
    assert body["body_bytes"] == len(payload)
    assert api.bodies[-1] == hashlib.sha256(payload).hexdigest()
    assert api.bodies[0] == api.bodies[-1]


async def test_body_over_the_retry_limit_streams_and_its_401_reaches_the_caller(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    setup = await scenario.prepare(world, token_endpoint, api, expires_in=3600)
    car = await scenario.sidecar(make_sidecar, retry_body_limit=1024)
    api.refuse.add(setup.first.access_token)
    payload = os.urandom(200 * 1024)

    status, _, headers = await harness.call(http, car, api.url(), method="POST", data=payload)

    assert status == 401
    assert "Strongroom-Error" not in headers
    assert token_endpoint.calls == []
    assert api.bodies == [hashlib.sha256(payload).hexdigest()], "sent whole, once"
