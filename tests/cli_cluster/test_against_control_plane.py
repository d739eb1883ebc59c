"""`strongroom seal` and `strongroom audit query` against the real control plane over TLS
(``--ca-file``), directly and through a stand-in for the API server's service proxy, which
replaces the ``Authorization`` header with its own credentials as ``kubectl proxy`` does."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from strongroom_cli import main
from strongroom_core.sealing import bindings, publickey
from strongroom_operator.controlplane import command
from tests import canary
from tests.cli_cluster import conftest
from tests.controlplane_kube import certs, pods
from tests.controlplane_kube.conftest import client, cluster, control_plane, tls
from tests.kube import emulator

__all__ = ["client", "cluster", "control_plane", "tls"]

PROXY_PREFIX = (
    "/api/v1/namespaces/strongroom-system/services/https:strongroom-controlplane:8443/proxy"
)


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main.main, list(argv))


@pytest.fixture
def admin_token_file(cluster: emulator.KubeEmulator, tmp_path: Path) -> Path:
    token = pods.projected_token("strongroom-system", "strongroom-cli", None, None, ["strongroom"])
    cluster.register_token(token, namespace="strongroom-system", service_account="strongroom-cli")
    path = tmp_path / "admin-token"
    path.write_text(token + "\n")
    return path


@pytest.fixture
async def service_proxy(
    control_plane: command.Running, tls: certs.Certificates
) -> AsyncIterator[str]:
    """Forwards ``PROXY_PREFIX/...`` to the control plane with the proxy's own Authorization."""
    context = ssl.create_default_context(cafile=str(tls.ca_file))
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
    proxy_credential = canary.new("kubectl-proxy")

    async def forward(request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        headers["Authorization"] = f"Bearer {proxy_credential}"
        url = control_plane.url + "/" + request.match_info["tail"]
        async with session.request(
            request.method, url, params=request.query, headers=headers, data=await request.read()
        ) as answer:
            body = await answer.read()
            return web.Response(status=answer.status, body=body, content_type=answer.content_type)

    app = web.Application()
    app.router.add_route("*", PROXY_PREFIX + "/{tail:.*}", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}{PROXY_PREFIX}"
    finally:
        await runner.cleanup()
        await session.close()


async def test_seal_fetches_the_public_key_over_tls_and_the_control_plane_can_open_it(
    control_plane: command.Running,
    tls: certs.Certificates,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = tmp_path / "secret"
    value = canary.new("managed-secret")
    secret.write_text(value)
    argv = ["seal", "--server", control_plane.url, "--ca-file", str(tls.ca_file)]
    argv += ["-n", "team-a", "--grant", "stripe", "--provider", "stripe"]
    assert await cli(*argv, "--from-file", str(secret)) == 0
    sealed = capsys.readouterr().out.strip()
    binding = bindings.ClientSealBinding(namespace="team-a", grant="stripe", provider="stripe")
    opened = publickey.open_sealed(control_plane.control_plane.sealing_key, sealed, binding)
    assert json.loads(opened) == {"token": value}


async def test_seal_without_the_ca_refuses_the_unknown_certificate(
    control_plane: command.Running, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret"
    secret.write_text(canary.new("managed-secret"))
    argv = ["seal", "--server", control_plane.url, "--grant", "g", "--provider", "p"]
    assert await cli(*argv, "--from-file", str(secret)) == 2
    assert "cannot fetch the sealing key" in capsys.readouterr().err


async def test_seal_through_the_service_proxy_url(
    service_proxy: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret"
    secret.write_text(canary.new("managed-secret"))
    argv = ["seal", "--server", service_proxy, "--grant", "g", "--provider", "p"]
    assert await cli(*argv, "--from-file", str(secret)) == 0
    assert capsys.readouterr().out.startswith("srs1.")


async def test_audit_query_reads_records_over_tls_with_an_admin_token(
    cluster: emulator.KubeEmulator,
    control_plane: command.Running,
    client: aiohttp.ClientSession,
    tls: certs.Certificates,
    admin_token_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    intruder = canary.new("intruder")
    url = control_plane.url + "/v1/apps/team-a/shop/keys"
    async with client.get(url, headers={"Authorization": f"Bearer {intruder}"}) as response:
        assert response.status == 401
    argv = ["audit", "query", "--server", control_plane.url, "--token-file"]
    argv += [str(admin_token_file), "--ca-file", str(tls.ca_file), "--json"]
    assert await cli(*argv) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["kind"] for e in events] == ["auth.refused"]
    assert events[0]["reason"].startswith("token_rejected: ")


async def test_audit_query_through_the_service_proxy_sends_its_token_past_the_proxy(
    control_plane: command.Running,
    service_proxy: str,
    admin_token_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["audit", "query", "--server", service_proxy, "--token-file", str(admin_token_file)]
    assert await cli(*argv) == 0
    assert capsys.readouterr().err == ""


async def test_audit_query_with_a_sidecar_token_is_forbidden_and_says_so(
    cluster: emulator.KubeEmulator,
    control_plane: command.Running,
    tls: certs.Certificates,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token_file = tmp_path / "sidecar-token"
    token_file.write_text(pods.pod_token(cluster, pods.sidecar_pod(cluster, "web-0")))
    argv = ["audit", "query", "--server", control_plane.url, "--token-file", str(token_file)]
    assert await cli(*argv, "--ca-file", str(tls.ca_file)) == 2
    assert "HTTP 403" in capsys.readouterr().err


async def test_rotate_on_a_cluster_records_key_rotated_at_the_control_plane(
    cluster: emulator.KubeEmulator,
    control_plane: command.Running,
    tls: certs.Certificates,
    admin_token_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with conftest.cluster_target(cluster) as target:
        await target.seed()
        where = [*target.argv, "--server", control_plane.url, "--ca-file", str(tls.ca_file)]
        assert (
            await cli("rotate", "app", "team-a/shop", *where, "--token-file", str(admin_token_file))
            == 0
        )
        assert await cli("rotate", "root", *where, "--token-file", str(admin_token_file)) == 0
        await target.assert_every_grant_readable()
    assert "audited: key.rotated at" in capsys.readouterr().err
    argv = ["audit", "query", "--server", control_plane.url, "--token-file"]
    assert await cli(*argv, str(admin_token_file), "--ca-file", str(tls.ca_file), "--json") == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    rotated = [e for e in events if e["kind"] == "key.rotated"]
    assert [(e["namespace"], e["app"]) for e in rotated] == [("", ""), ("team-a", "shop")]
    assert rotated[1]["reason"].startswith("App team-a/shop key rotated: new key ")
    assert rotated[0]["reason"].startswith("root key rotated: new key ")
    assert not canary.found_in(json.dumps(events))


async def test_rotate_with_a_token_the_control_plane_refuses_says_the_rotation_happened(
    cluster: emulator.KubeEmulator,
    control_plane: command.Running,
    tls: certs.Certificates,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token_file = tmp_path / "sidecar-token"
    token_file.write_text(pods.pod_token(cluster, pods.sidecar_pod(cluster, "web-0")))
    async with conftest.cluster_target(cluster) as target:
        await target.seed()
        argv = [*target.argv, "--server", control_plane.url, "--ca-file", str(tls.ca_file)]
        assert await cli("rotate", "root", *argv, "--token-file", str(token_file)) == 2
        await target.assert_every_grant_readable()
    err = capsys.readouterr().err
    assert "the key was rotated (totals above), but" in err
    assert "HTTP 403" in err
