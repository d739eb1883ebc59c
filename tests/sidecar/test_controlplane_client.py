"""The sidecar's control-plane client against the real server."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from strongroom_sidecar import controlplane_client, settings
from tests.sidecar.conftest import APP, NS, SIDECAR_TOKEN, ControlPlane, World


@pytest.fixture
async def client(
    control_plane: ControlPlane,
) -> AsyncIterator[controlplane_client.ControlPlaneClient]:
    c = controlplane_client.ControlPlaneClient(
        settings.SidecarSettings(control_plane.url, NS, APP, control_plane_token=SIDECAR_TOKEN)
    )
    await c.open()
    yield c
    await c.close()


async def test_key_release_gives_the_apps_keyring(
    world: World, client: controlplane_client.ControlPlaneClient
) -> None:
    keyring = await client.fetch_keys()
    assert keyring.active.kid == (await world.app_keyring()).active.kid


async def test_compare_and_swap_write_back_wins_once_and_then_conflicts(
    world: World, client: controlplane_client.ControlPlaneClient
) -> None:
    stored = await world.add_grant("echo-demo", {"token": "t"})
    claimed = dataclasses.replace(stored, claim_holder="pod/a", claim_expires_at=9e9)
    written = await client.replace_grant(claimed, stored.version)
    assert (written.claim_holder, written.version) == ("pod/a", stored.version + 1)
    with pytest.raises(controlplane_client.ControlPlaneError) as info:
        await client.replace_grant(claimed, stored.version)
    assert info.value.status == 409


async def test_wrong_token_is_reported_with_status_and_without_the_token(
    world: World, control_plane: ControlPlane
) -> None:
    c = controlplane_client.ControlPlaneClient(
        settings.SidecarSettings(
            control_plane.url, NS, APP, control_plane_token="not-the-token-123"
        )
    )
    await c.open()
    try:
        with pytest.raises(controlplane_client.ControlPlaneError) as info:
            await c.fetch_keys()
    finally:
        await c.close()
    assert info.value.status == 401
    assert "not-the-token-123" not in str(info.value)


async def test_unreachable_control_plane_is_status_zero() -> None:
    c = controlplane_client.ControlPlaneClient(
        settings.SidecarSettings("http://127.0.0.1:9", NS, APP, control_plane_token="x")
    )
    await c.open()
    try:
        with pytest.raises(controlplane_client.ControlPlaneError) as info:
            await c.post_audit([])
    finally:
        await c.close()
    assert info.value.status == 0


async def test_watch_from_zero_is_a_snapshot_ending_in_synced(
    world: World, client: controlplane_client.ControlPlaneClient
) -> None:
    await world.add_grant("echo-demo", {"token": "t"})
    kinds = []
    async for event in client.watch(0):
        kinds.append(event["type"])
        if event["type"] == "SYNCED":
            break
    assert kinds == ["POLICY", "GRANT", "SYNCED"]
