"""A real sidecar, authenticated by its projected token file, syncs from control planes on the
Kubernetes storage over TLS; two replicas on one storage serve the same watch."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiohttp
import pytest

from strongroom_core import policy
from strongroom_operator.controlplane import command, keyservice
from strongroom_sidecar import app as sidecar_app
from strongroom_sidecar import settings as sidecar_settings
from tests.controlplane import harness as h
from tests.controlplane_kube import certs, conftest, pods
from tests.kube import emulator


def compiled_policy(digest: str) -> policy.CompiledPolicy:
    return {
        "namespace": pods.NAMESPACE,
        "app": pods.APP,
        "digest": digest,
        "providers": {},
        "grants": {},
        "rules": [],
    }


async def seed(running: command.Running) -> None:
    cp = running.control_plane
    assert isinstance(cp.key_service, keyservice.KeyService)
    await cp.key_service.ensure_app_keys(pods.NAMESPACE, pods.APP)
    body = dict(compiled_policy("p1"))
    await cp.storage.put_document(pods.NAMESPACE, pods.APP, "policy", body, None)
    await cp.storage.create_grant(h.make_grant("g1"))


async def wait_for(condition: object, what: str) -> None:
    for _ in range(500):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_real_sidecar_syncs_over_tls_with_its_projected_token_file(
    cluster: emulator.KubeEmulator,
    control_plane: command.Running,
    tls: certs.Certificates,
    tmp_path: Path,
) -> None:
    await seed(control_plane)
    token_file = tmp_path / "token"
    token_file.write_text(pods.pod_token(cluster, pods.sidecar_pod(cluster, "web-0")))
    settings = sidecar_settings.SidecarSettings(
        control_plane_url=control_plane.url,
        namespace=pods.NAMESPACE,
        app=pods.APP,
        caller="pod/web-0",
        control_plane_token_file=str(token_file),
        control_plane_ca_file=str(tls.ca_file),
        proxy_port=0,
        health_host="127.0.0.1",
        health_port=0,
        audit_stdout=False,
        shutdown_grace=1.0,
    )
    async with sidecar_app.Sidecar(settings) as sidecar:
        await sidecar.wait_ready()
        assert set(sidecar.state.grants) == {"g1"}
        await control_plane.control_plane.storage.create_grant(h.make_grant("g2"))
        await wait_for(lambda: "g2" in sidecar.state.grants, "the new grant on the watch")


async def test_a_sidecar_that_does_not_trust_the_ca_never_becomes_ready(
    cluster: emulator.KubeEmulator, control_plane: command.Running, tmp_path: Path
) -> None:
    await seed(control_plane)
    token_file = tmp_path / "token"
    token_file.write_text(pods.pod_token(cluster, pods.sidecar_pod(cluster, "web-0")))
    other_ca = certs.issue(tmp_path).ca_file  # not the CA that signed the server
    settings = sidecar_settings.SidecarSettings(
        control_plane_url=control_plane.url,
        namespace=pods.NAMESPACE,
        app=pods.APP,
        control_plane_token_file=str(token_file),
        control_plane_ca_file=str(other_ca),
        proxy_port=0,
        health_host="127.0.0.1",
        health_port=0,
        audit_stdout=False,
        shutdown_grace=1.0,
    )
    async with sidecar_app.Sidecar(settings) as sidecar:
        with pytest.raises(TimeoutError):
            await sidecar.wait_ready(within=1.0)


async def test_two_replicas_on_one_storage_serve_the_same_watch(
    cluster: emulator.KubeEmulator,
    control_plane: command.Running,
    tls: certs.Certificates,
    client: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    await seed(control_plane)
    second_options = conftest.options(cluster, tls, tmp_path / "audit-2.db")
    token = pods.pod_token(cluster, pods.sidecar_pod(cluster, "web-0"))
    async with contextlib.AsyncExitStack() as stack:
        second = await stack.enter_async_context(command.running(second_options))
        assert second.control_plane.sealing_key.kid == control_plane.control_plane.sealing_key.kid
        streams = []
        for replica in (control_plane, second):
            response = await stack.enter_async_context(
                client.get(f"{replica.url}/v1/apps/team-a/shop/watch", headers=h.bearer(token))
            )
            assert response.status == 200
            streams.append(h.WatchStream(response))
        snapshots = [await stream.take(3) for stream in streams]
        assert snapshots[0] == snapshots[1]
        assert [e["type"] for e in snapshots[0]] == ["POLICY", "GRANT", "SYNCED"]
        await second.control_plane.storage.create_grant(h.make_grant("g2"))
        changes = [await stream.next_skipping_heartbeats() for stream in streams]
        assert changes[0] == changes[1]
        assert changes[0]["grant"]["name"] == "g2"
        for replica in (control_plane, second):
            async with client.get(f"{replica.url}/v1/sealing-key") as response:
                assert (await response.json())["kid"] == second.control_plane.sealing_key.kid
