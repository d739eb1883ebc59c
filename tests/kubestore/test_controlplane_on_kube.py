"""The control plane, unchanged, on the Kubernetes storage and root keys: a sidecar's watch gets
the snapshot then every change, and key release works."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import aiohttp
import pytest

from strongroom_core import protocol
from strongroom_core.sealing import publickey, rootkeys
from strongroom_kube import client
from strongroom_operator.controlplane import auth, keyservice, server, settings
from strongroom_operator.kubestore import rootkeys as kuberootkeys
from strongroom_operator.kubestore import storage
from tests.controlplane import harness as h
from tests.kube import emulator
from tests.kubestore import conftest


@pytest.fixture
async def control_plane(
    kube: emulator.KubeEmulator, kubestorage: storage.KubernetesStorage
) -> AsyncIterator[str]:
    root_store = kuberootkeys.KubernetesRootKeyStore(
        client.KubeClient(conftest.cluster_of(kube)), conftest.NAMESPACE
    )
    await root_store.kube.open()
    await rootkeys.load_or_create(root_store)
    key_service = keyservice.KeyService(kubestorage, root_store)
    await key_service.ensure_app_keys("team-a", "shop")
    cp = server.ControlPlane(
        kubestorage,
        key_service,
        publickey.SealingKey.generate(),
        auth.StaticTokenAuthenticator(h.CALLERS),
        settings.ControlPlaneSettings(heartbeat_seconds=0.2, shutdown_timeout=1.0),
    )
    runner, port = await server.start(cp, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        await root_store.kube.close()


async def test_a_sidecar_watch_gets_the_snapshot_then_live_changes(
    control_plane: str, kubestorage: storage.KubernetesStorage
) -> None:
    await kubestorage.put_document("team-a", "shop", "policy", {"digest": "p1"}, None)
    first = await kubestorage.create_grant(h.make_grant("a"))
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{control_plane}/v1/apps/team-a/shop/watch", headers=h.SIDECAR) as response,
    ):
        assert response.status == 200
        stream = h.WatchStream(response)
        snapshot = await stream.take(3)
        assert [e["type"] for e in snapshot] == ["POLICY", "GRANT", "SYNCED"]
        assert snapshot[1]["grant"] == protocol.grant_to_wire(first)
        replaced = await kubestorage.replace_grant(dataclasses.replace(first, sealed="new"), 1)
        await kubestorage.delete_grant("team-a", "a")
        live = await stream.take(2)
    assert live[0]["grant"] == protocol.grant_to_wire(replaced)
    assert live[1] == {"type": "GRANT_DELETED", "revision": live[1]["revision"], "name": "a"}
    assert snapshot[2]["revision"] < live[0]["revision"] < live[1]["revision"]


async def test_key_release_reads_the_app_keys_from_secrets(control_plane: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{control_plane}/v1/apps/team-a/shop/keys", headers=h.SIDECAR) as response,
    ):
        assert response.status == 200
        body = await response.json()
    assert body["keys"]
