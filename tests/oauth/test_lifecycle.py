"""Starting and stopping the server: ready line, clear failures, nothing left behind."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support import oauth_server as oauth_server_module


def test_a_stopped_server_leaves_no_process_and_no_listener(tmp_path: Path) -> None:
    server = oauth_server_module.OAuthServer.start(tmp_path)
    assert httpx.get(server.discovery_url).json()["issuer"] == server.issuer

    server.stop()
    server.stop()

    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.discovery_url)


def test_a_port_in_use_fails_the_start_with_the_servers_error(tmp_path: Path) -> None:
    with (
        oauth_server_module.running(tmp_path / "first") as first,
        pytest.raises(oauth_server_module.ServerError, match="EADDRINUSE"),
    ):
        oauth_server_module.OAuthServer.start(tmp_path / "second", port=first.port)


def test_the_admin_api_names_an_unknown_route(
    oauth_server: oauth_server_module.OAuthServer,
) -> None:
    with pytest.raises(oauth_server_module.ServerError, match="no test admin route"):
        oauth_server._admin("GET", "nothing-here")


def test_tls_serves_the_issuer_over_https_with_its_own_certificate(tmp_path: Path) -> None:
    with oauth_server_module.running(tmp_path, tls=True) as server:
        assert server.issuer.startswith("https://127.0.0.1:")
        discovery = httpx.get(server.discovery_url, verify=server.verify).json()
        assert discovery["jwks_uri"] == f"{server.issuer}/jwks"
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.discovery_url)  # not trusted without the test CA
