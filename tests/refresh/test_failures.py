"""When the provider fails: transient errors keep the current token until it really expires,
then ``503 refresh_unavailable``; ``invalid_grant`` re-reads the record first and only then
marks the grant ``NeedsReauth`` (status, audit, typed error to callers)."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

import strongroom
from strongroom_core import protocol
from tests.refresh import harness, scenario
from tests.refresh import provider as provider_module

SidecarFactory = harness.SidecarFactory
Endpoint = provider_module.TokenEndpoint
Api = provider_module.Api
World = harness.RefreshWorld


@pytest.mark.parametrize("failure", ["503", "timeout", "connection"])
async def test_transient_failures_serve_the_current_token_until_expiry_then_refresh_unavailable(
    failure: str,
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    setup = await scenario.prepare(world, token_endpoint, api, expires_in=2.5, margin=60)
    answer = provider_module.hang(5) if failure == "timeout" else provider_module.status(503)
    token_endpoint.answers.extend([answer] * 50)
    if failure == "connection":
        token_url_port = token_endpoint.port
        await token_endpoint.stop()
    car = await scenario.sidecar(make_sidecar, refresh_timeout=0.3, refresh_lease=1.0)

    # Inside the margin (the refresh is failing in the background): the current token works.
    while time.time() < setup.first.expires_at - 0.3:
        status, _, _ = await harness.call(http, car, api.url())
        assert status == 200
        await asyncio.sleep(0.1)
    assert set(api.seen) == {setup.first.access_token}
    await harness.eventually(lambda: car.refresher.stats.transient_failures >= 1)

    # Really expired and still failing: a stable code, with Retry-After.
    await asyncio.sleep(max(0.0, setup.first.expires_at - time.time()) + 0.05)
    status, body, headers = await harness.call(http, car, api.url())
    assert status == 503
    assert headers["Strongroom-Error"] == "refresh_unavailable"
    assert int(headers["Retry-After"]) >= 1
    assert harness.GRANT in body["detail"]
    with pytest.raises(strongroom.CredentialUnavailable) as caught:
        async with strongroom.AsyncApp(
            f"http://127.0.0.1:{car.proxy_port}", grant=harness.GRANT
        ) as sdk:
            await sdk.get(api.url())
    assert caught.value.code == "refresh_unavailable"
    record = await world.grant()
    assert (record.state, record.generation) == ("Ready", 1)

    # The provider recovers: the next attempt after the backoff succeeds.
    token_endpoint.answers.clear()
    if failure == "connection":
        token_endpoint.port = token_url_port
        await _restart_on(token_endpoint, token_url_port)

    async def served() -> bool:
        return (await harness.call(http, car, api.url()))[0] == 200

    await harness.eventually(served, within=10)
    assert (await world.grant()).generation == 2


async def _restart_on(endpoint: Endpoint, port: int) -> None:
    from aiohttp import web

    application = web.Application()
    application.router.add_post("/token", endpoint._handle)
    endpoint._runner = web.AppRunner(application, access_log=None, shutdown_timeout=0.2)
    await endpoint._runner.setup()
    await web.TCPSite(endpoint._runner, "127.0.0.1", port).start()


@pytest.mark.parametrize("code", [400, 401])
async def test_invalid_grant_marks_needs_reauth_with_audit_and_a_typed_error(
    code: int,
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await scenario.prepare(world, token_endpoint, api)
    token_endpoint.answers.append(provider_module.invalid_grant(code))
    car = await scenario.sidecar(make_sidecar)

    status, body, headers = await harness.call(http, car, api.url())

    assert status == 401
    assert headers["Strongroom-Error"] == "reauthorization_required"
    assert "invalid_grant" in body["detail"]
    record = await world.grant()
    assert record.state == "NeedsReauth"
    assert "authorize the grant again" in record.message
    assert record.claim_holder is None
    assert len(token_endpoint.calls) == 1
    events = harness.audit_events(car)
    (needs_reauth,) = [e for e in events if e["kind"] == "grant.needs_reauth"]
    assert (needs_reauth["grant"], needs_reauth["status"]) == (harness.GRANT, 401)
    with pytest.raises(strongroom.ReauthorizationRequired):
        async with strongroom.AsyncApp(
            f"http://127.0.0.1:{car.proxy_port}", grant=harness.GRANT
        ) as sdk:
            await sdk.get(api.url())
    assert len(token_endpoint.calls) == 1, "a grant that needs reauthorization is not retried"


async def test_invalid_grant_after_another_writer_won_uses_the_newer_token(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
    control_plane: harness.ControlPlane,
) -> None:
    """Another pod refreshed while our token call was out (say its lease had run out): the
    provider says invalid_grant to our stale refresh token, the re-read finds the newer
    generation, and the call uses it. The grant is not condemned."""
    await scenario.prepare(world, token_endpoint, api)
    newer = token_endpoint.issue()

    async def win_elsewhere_then_refuse(
        endpoint: Endpoint, form: dict[str, str]
    ) -> aiohttp.web.Response:
        current = await world.grant()
        keyring = await world.keyring()
        from strongroom_core.sealing import credentials

        sealed = credentials.seal_for_record(keyring.active, current, endpoint.credential(newer))
        await world.replace(
            sealed=sealed,
            generation=current.generation + 1,
            token_expires_at=newer.expires_at,
            claim_holder=None,
            claim_expires_at=None,
        )
        endpoint.invalid_grants += 1
        return aiohttp.web.json_response({"error": "invalid_grant"}, status=400)

    token_endpoint.answers.append(win_elsewhere_then_refuse)
    car = await scenario.sidecar(make_sidecar)

    status, _, _ = await harness.call(http, car, api.url())

    assert status == 200
    assert api.seen[-1] == newer.access_token
    record = await world.grant()
    assert (record.state, record.generation) == ("Ready", 2)
    assert not [e for e in harness.audit_events(car) if e["kind"] == "grant.needs_reauth"]


async def test_grant_marked_needs_reauth_by_another_pod_is_refused_here_too(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await scenario.prepare(world, token_endpoint, api, expires_in=3600)
    car = await scenario.sidecar(make_sidecar)
    await world.replace(state="NeedsReauth", message="the provider refused the refresh token")
    await harness.eventually(lambda: car.state.grants[harness.GRANT].state == "NeedsReauth")

    status, _, headers = await harness.call(http, car, api.url())

    assert (status, headers["Strongroom-Error"]) == (401, "reauthorization_required")
    assert token_endpoint.calls == []


async def test_claim_on_a_grant_that_is_not_ready_is_refused(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    control_plane: harness.ControlPlane,
    http: aiohttp.ClientSession,
) -> None:
    await scenario.prepare(world, token_endpoint, api)
    await world.replace(state="NeedsReauth")
    async with http.post(
        f"{control_plane.url}/v1/apps/{harness.NS}/{harness.APP}/grants/{harness.GRANT}/claim",
        json={"holder": "pod/a", "leaseSeconds": 5, "generation": 1},
        headers={"Authorization": f"Bearer {harness.ADMIN_TOKEN}"},
    ) as response:
        body = await response.json()
    assert (response.status, body["code"]) == (409, "not_refreshable")
    assert protocol.grant_from_wire(body["grant"]).state == "NeedsReauth"
