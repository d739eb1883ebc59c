"""The control plane's refresh claim (``POST .../grants/{name}/claim``) decided with its own
clock, its fencing of the write-back, and a sidecar killed while holding a claim."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import aiohttp
import pytest

from strongroom_core import protocol
from strongroom_core.storage import records
from strongroom_sidecar import settings
from tests.refresh import harness, scenario
from tests.refresh import provider as provider_module

SidecarFactory = harness.SidecarFactory
Endpoint = provider_module.TokenEndpoint
Api = provider_module.Api
World = harness.RefreshWorld
ControlPlane = harness.ControlPlane


async def _claim(
    http: aiohttp.ClientSession, cp: ControlPlane, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    async with http.post(
        f"{cp.url}/v1/apps/{harness.NS}/{harness.APP}/grants/{harness.GRANT}/claim",
        json=body,
        headers={"Authorization": f"Bearer {harness.ADMIN_TOKEN}"},
    ) as response:
        return response.status, await response.json()


def _claim_body(holder: str, lease: float = 30.0, generation: int = 1) -> dict[str, Any]:
    return {"holder": holder, "leaseSeconds": lease, "generation": generation}


@pytest.fixture
async def stored(world: World, token_endpoint: Endpoint, api: Api) -> records.GrantRecord:
    await scenario.prepare(world, token_endpoint, api)
    return await world.grant()


async def test_first_claim_wins_and_the_second_holder_is_told_who_and_until_when(
    stored: records.GrantRecord, control_plane: ControlPlane, http: aiohttp.ClientSession
) -> None:
    before = time.time()
    status, won = await _claim(http, control_plane, _claim_body("pod/a"))
    assert status == 200
    claimed = protocol.grant_from_wire(won["grant"])
    assert claimed.claim_holder == "pod/a"
    assert claimed.version == stored.version + 1
    assert claimed.claim_expires_at is not None
    assert before + 30 <= claimed.claim_expires_at <= time.time() + 30

    status, lost = await _claim(http, control_plane, _claim_body("pod/b"))
    assert (status, lost["code"]) == (409, "claim_held")
    assert protocol.grant_from_wire(lost["grant"]).claim_holder == "pod/a"
    assert lost["serverTime"] >= before

    status, renewed = await _claim(http, control_plane, _claim_body("pod/a"))
    assert status == 200, "the holder may renew"
    assert protocol.grant_from_wire(renewed["grant"]).version == claimed.version + 1


async def test_expired_lease_can_be_taken_over_and_the_late_write_back_fails(
    world: World,
    stored: records.GrantRecord,
    control_plane: ControlPlane,
    http: aiohttp.ClientSession,
) -> None:
    _, first = await _claim(http, control_plane, _claim_body("pod/a", lease=0.2))
    late = protocol.grant_from_wire(first["grant"])
    await asyncio.sleep(0.3)
    status, second = await _claim(http, control_plane, _claim_body("pod/b"))
    assert status == 200
    assert protocol.grant_from_wire(second["grant"]).claim_holder == "pod/b"

    written = dataclasses.replace(late, generation=2, claim_holder=None, claim_expires_at=None)
    status, answer = await harness.admin_put(http, control_plane, written, late.version)
    assert (status, answer["code"]) == (409, "version_conflict")
    assert (await world.grant()).generation == 1


async def test_claim_for_an_old_generation_answers_with_the_current_record(
    world: World,
    stored: records.GrantRecord,
    control_plane: ControlPlane,
    http: aiohttp.ClientSession,
) -> None:
    await world.replace(generation=2)
    status, body = await _claim(http, control_plane, _claim_body("pod/a", generation=1))
    assert (status, body["code"]) == (409, "generation_changed")
    assert protocol.grant_from_wire(body["grant"]).generation == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"leaseSeconds": 5, "generation": 1}, "holder"),
        ({"holder": "", "leaseSeconds": 5, "generation": 1}, "holder"),
        ({"holder": "a", "leaseSeconds": 0, "generation": 1}, "leaseSeconds"),
        ({"holder": "a", "leaseSeconds": 10_000, "generation": 1}, "leaseSeconds"),
        ({"holder": "a", "leaseSeconds": True, "generation": 1}, "leaseSeconds"),
        ({"holder": "a", "leaseSeconds": 5}, "generation"),
        ({"holder": "a", "leaseSeconds": 5, "generation": "1"}, "generation"),
    ],
)
async def test_malformed_claim_is_refused_naming_the_field(
    body: dict[str, Any],
    field: str,
    stored: records.GrantRecord,
    control_plane: ControlPlane,
    http: aiohttp.ClientSession,
) -> None:
    status, problem = await _claim(http, control_plane, body)
    assert (status, problem["code"]) == (400, "invalid_request")
    assert problem["detail"].startswith(f"{field}:")


async def test_claim_on_an_unknown_grant_is_404(
    world: World, control_plane: ControlPlane, http: aiohttp.ClientSession
) -> None:
    status, problem = await _claim(http, control_plane, _claim_body("pod/a"))
    assert (status, problem["code"]) == (404, "not_found")


async def test_sidecar_killed_while_holding_the_claim_blocks_nobody_beyond_the_lease(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    setup = await scenario.prepare(world, token_endpoint, api)
    token_endpoint.answers.append(provider_module.hang(3))  # never answers in time
    lease = 1.5
    doomed = await scenario.sidecar(
        make_sidecar, refresh_timeout=1.0, refresh_lease=lease, shutdown_grace=0.1
    )
    await harness.eventually(lambda: len(token_endpoint.calls) == 1)
    holder = (await world.grant()).claim_holder
    assert holder == doomed.refresher.instance_id

    await doomed.stop()  # killed mid-refresh: the claim is never released
    killed_at = time.time()
    record = await world.grant()
    assert record.claim_holder == holder
    assert record.claim_expires_at is not None

    survivor = await scenario.sidecar(make_sidecar, refresh_timeout=1.0, refresh_lease=lease)
    status, _, _ = await harness.call(http, survivor, api.url())

    assert status == 200
    assert time.time() >= record.claim_expires_at - 0.05, "it waited for the lease"
    assert time.time() - killed_at < lease + 5, "and not much longer"
    refreshed = await world.grant()
    assert refreshed.generation == 2
    assert refreshed.claim_holder is None
    presented = [c["form"]["refresh_token"] for c in token_endpoint.calls]
    assert presented == [setup.first.refresh_token, setup.first.refresh_token]
    assert token_endpoint.reuse_detected == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"refresh_timeout": 10.0, "refresh_lease": 10.0}, "refresh_lease: 10s must be longer"),
        ({"refresh_lease": 601.0}, "refresh_lease: at most 600 seconds"),
        ({"refresh_timeout": 0.0}, "refresh_timeout: must be more than 0 seconds"),
        ({"retry_body_limit": -1}, "retry_body_limit: must be 0 or more bytes"),
    ],
)
def test_refresh_settings_that_cannot_work_are_refused_by_name(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(settings.SettingsError, match=message):
        settings.SidecarSettings(
            control_plane_url="http://127.0.0.1:1", namespace="a", app="b", **overrides
        )
