"""Pytest fixtures for the real authorization server. Use them from a conftest.py:

    from tests.support.fixtures import (  # noqa: F401
        _shared_browser_closes_at_session_end,
        oauth_server,
        oauth_server_factory,
    )

`oauth_server` is a server with the default settings (5 s access tokens, rotating refresh
tokens); `oauth_server_factory(**options)` starts one with OAuthServer.start's options
(access_token_ttl=1, invalid_grant_status=401, accounts={...}, tls=True, ...). Every server a
test started is stopped when the test ends, and its stderr is printed if the test failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import browser
from tests.support import oauth_server as oauth_server_module

ServerFactory = Callable[..., oauth_server_module.OAuthServer]


@pytest.fixture(scope="session", autouse=True)
def _shared_browser_closes_at_session_end() -> Iterator[None]:
    yield
    browser.close_shared_browser()


@pytest.fixture
def oauth_server_factory(tmp_path: Path) -> Iterator[ServerFactory]:
    started: list[oauth_server_module.OAuthServer] = []

    def start(**options: Any) -> oauth_server_module.OAuthServer:
        workdir = tmp_path / f"oauth-server-{len(started)}"
        server = oauth_server_module.OAuthServer.start(workdir, **options)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
            stderr = server.stderr_text()
            if "server_error" in stderr:
                print(f"OAuth server {server.issuer} stderr:\n{stderr[-4000:]}")


@pytest.fixture
def oauth_server(oauth_server_factory: ServerFactory) -> oauth_server_module.OAuthServer:
    return oauth_server_factory()
