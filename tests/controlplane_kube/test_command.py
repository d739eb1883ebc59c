"""``strongroom-controlplane``: flags checked before anything starts, keys created on the first
start and kept, and a replica without the audit volume forwarding audit to the collector."""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from pathlib import Path

import aiohttp
import pytest

from strongroom_kube import config
from strongroom_operator.controlplane import command
from strongroom_operator.kubestore import rootkeys as kuberootkeys
from tests import canary
from tests.controlplane import harness as h
from tests.controlplane_kube import certs, conftest, pods
from tests.kube import emulator


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--audit-db", "a.db"], "--tls-cert-file"),
        (["--insecure-dev"], "--audit-db"),
        (["--insecure-dev", "--audit-db", "a.db", "--audit-url", "https://x"], "--audit-db"),
        (["--insecure-dev", "--audit-url", "https://x"], "--audit-token-file"),
    ],
)
def test_a_replica_configured_wrong_says_which_flag(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(command.StartupError, match=named):
        command.parse(argv)
    assert command.main(argv) == 2
    assert named in capsys.readouterr().err


def test_every_flag_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_CONTROLPLANE_INSECURE_DEV", "true")
    monkeypatch.setenv("STRONGROOM_CONTROLPLANE_AUDIT_DB", "/data/audit.db")
    monkeypatch.setenv("STRONGROOM_CONTROLPLANE_SIDECAR_IMAGES", "a:1, b:2")
    monkeypatch.setenv("STRONGROOM_CONTROLPLANE_ADMIN_GROUPS", "strongroom:admins")
    options = command.parse([])
    assert options.insecure_dev
    assert options.audit_db == Path("/data/audit.db")
    assert options.review.sidecar_images == ("a:1", "b:2")
    assert options.review.admin_groups == frozenset({"strongroom:admins"})
    assert options.port == 8443


async def test_keys_are_created_on_the_first_start_and_kept_across_restarts(
    cluster: emulator.KubeEmulator, tls: certs.Certificates, tmp_path: Path
) -> None:
    options = conftest.options(cluster, tls, tmp_path / "audit.db")
    async with command.running(options) as first:
        sealing_kid = first.control_plane.sealing_key.kid
    namespace = conftest.CONTROL_PLANE_NAMESPACE
    root_secret = cluster.get("secrets", kuberootkeys.DEFAULT_NAME, namespace)
    assert root_secret is not None
    async with command.running(options) as second:
        assert second.control_plane.sealing_key.kid == sealing_kid
    again = cluster.get("secrets", kuberootkeys.DEFAULT_NAME, conftest.CONTROL_PLANE_NAMESPACE)
    assert again is not None
    assert again["data"] == root_secret["data"]


async def test_a_corrupted_root_keyring_stops_the_start_instead_of_being_replaced(
    cluster: emulator.KubeEmulator, tls: certs.Certificates, tmp_path: Path
) -> None:
    options = conftest.options(cluster, tls, tmp_path / "audit.db")
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": kuberootkeys.DEFAULT_NAME,
                "namespace": conftest.CONTROL_PLANE_NAMESPACE,
            },
            "data": {"other": "eA=="},
        }
    )
    with pytest.raises(Exception, match="strongroom key import"):
        async with command.running(options):
            pass
    kept = cluster.get("secrets", kuberootkeys.DEFAULT_NAME, conftest.CONTROL_PLANE_NAMESPACE)
    assert kept is not None
    assert kept["data"] == {"other": "eA=="}


async def test_a_forwarding_replica_sends_audit_and_refusals_to_the_collector(
    cluster: emulator.KubeEmulator,
    control_plane: command.Running,
    tls: certs.Certificates,
    client: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    replica_token = pods.projected_token(
        conftest.CONTROL_PLANE_NAMESPACE, "strongroom-cli", None, None, ["strongroom"]
    )
    cluster.register_token(
        replica_token,
        namespace=conftest.CONTROL_PLANE_NAMESPACE,
        service_account="strongroom-cli",
    )
    token_file = tmp_path / "replica-token"
    token_file.write_text(replica_token)
    forwarding = conftest.options(
        cluster,
        tls,
        None,
        audit_url=control_plane.url,
        audit_token_file=token_file,
        audit_ca_file=tls.ca_file,
    )
    sidecar = pods.pod_token(cluster, pods.sidecar_pod(cluster, "web-0"))
    event = {
        "id": "e1",
        "time": 1.0,
        "kind": "use",
        "namespace": "team-a",
        "app": "shop",
        "caller": "pod/web-0",
        "principal": "user:alice",
        "grant": "g1",
        "provider": "github",
        "method": "GET",
        "host": "api.github.com",
        "path": "/user",
        "status": 200,
        "latency_ms": 3.0,
        "decision": "allow",
        "reason": "ok",
        "refreshed": False,
        "trace_id": "",
    }
    async with contextlib.AsyncExitStack() as stack:
        replica = await stack.enter_async_context(command.running(forwarding))
        async with client.post(
            f"{replica.url}/v1/audit", json={"events": [event]}, headers=h.bearer(sidecar)
        ) as response:
            assert response.status == 200
            assert (await response.json())["stored"] == 1
        intruder = canary.new("intruder")
        async with client.get(
            f"{replica.url}/v1/apps/team-a/shop/keys", headers=h.bearer(intruder)
        ) as response:
            assert response.status == 401
        async with client.get(
            f"{replica.url}/v1/audit", headers=h.bearer(replica_token)
        ) as response:
            events = (await response.json())["events"]
    assert {e["kind"] for e in events} == {"use", "auth.refused"}
    stored = await conftest.audit_records(tmp_path / "audit.db")
    assert {e["id"] for e in stored} >= {"e1"}


async def test_a_forwarding_replica_answers_503_when_the_collector_is_down(
    cluster: emulator.KubeEmulator,
    tls: certs.Certificates,
    client: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    token_file = tmp_path / "replica-token"
    token_file.write_text(canary.new("replica"))
    forwarding = conftest.options(
        cluster,
        tls,
        None,
        audit_url="https://127.0.0.1:9",
        audit_token_file=token_file,
    )
    admin = pods.projected_token("strongroom-system", "strongroom-cli", None, None, ["strongroom"])
    cluster.register_token(admin, namespace="strongroom-system", service_account="strongroom-cli")
    async with contextlib.AsyncExitStack() as stack:
        replica = await stack.enter_async_context(command.running(forwarding))
        response = await stack.enter_async_context(
            client.get(f"{replica.url}/v1/audit", headers=h.bearer(admin))
        )
        assert response.status == 503
        assert (await h.problem_of(response))["code"] == "unavailable"


async def test_a_replica_without_a_namespace_says_so(
    tls: certs.Certificates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    options = command.Options(insecure_dev=True, audit_db=tmp_path / "a.db", port=0)
    with pytest.raises((command.StartupError, config.ConfigError)):
        async with command.running(options):
            pass


async def test_a_renewed_serving_certificate_is_served_without_a_restart(tmp_path: Path) -> None:
    first = certs.issue(tmp_path)
    serving = command.ServingCertificates(first.cert_file, first.key_file)
    watcher = asyncio.create_task(serving.watch(interval=0.05))
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0, ssl=serving.context)
    port = server.sockets[0].getsockname()[1]

    async def served_certificate(ca_file: Path) -> bytes:
        context = ssl.create_default_context(cafile=str(ca_file))
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.close()
        with contextlib.suppress(ssl.SSLError, ConnectionError):
            await writer.wait_closed()
        return bytes(der)

    try:
        before = await served_certificate(first.ca_file)
        renewed_dir = tmp_path / "renewed"
        renewed_dir.mkdir()
        renewed = certs.issue(renewed_dir)
        os.replace(renewed.key_file, first.key_file)
        os.replace(renewed.cert_file, first.cert_file)
        for _ in range(200):
            await asyncio.sleep(0.02)
            with contextlib.suppress(ssl.SSLError):
                after = await served_certificate(renewed.ca_file)
                break
        else:
            raise AssertionError("the renewed certificate was never served")
        assert after != before
    finally:
        server.close()
        await server.wait_closed()
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
