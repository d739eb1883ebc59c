"""Authorization code with PKCE through a real browser against the real authorization server."""

from __future__ import annotations

import httpx
import pytest

from tests.support import browser, jwts
from tests.support import oauth_server as oauth_server_module
from tests.support.fixtures import ServerFactory

pytestmark = browser.requires_chromium


async def test_browser_login_with_pkce_gives_a_refresh_token_and_jwts_with_the_users_groups(
    oauth_server_factory: ServerFactory,
) -> None:
    server = oauth_server_factory(accounts={"alice": {"groups": ["eng", "oncall"]}})

    tokens = await browser.sign_in(server, login="alice")

    assert {"access_token", "refresh_token", "id_token"} <= tokens.keys()
    assert tokens["token_type"] == "Bearer"
    jwks = httpx.get(server.jwks_url).json()
    access = jwts.verify(
        tokens["access_token"], jwks, issuer=server.issuer, audience=server.audience
    )
    identity = jwts.verify(
        tokens["id_token"], jwks, issuer=server.issuer, audience=server.web_client.client_id
    )
    assert access["sub"] == identity["sub"] == "alice"
    assert access["groups"] == identity["groups"] == ["eng", "oncall"]
    assert jwts.header(tokens["access_token"])["alg"] == "RS256"
    counters = server.counters()
    assert counters["tokens_issued"] == {"authorization_code": 1}
    assert counters["authorization_requests"] == 1


async def test_an_unknown_login_is_accepted_with_the_default_groups(
    oauth_server_factory: ServerFactory,
) -> None:
    server = oauth_server_factory(default_groups=["staff"])

    tokens = await browser.sign_in(server, login="bob")

    assert jwts.claims(tokens["access_token"])["groups"] == ["staff"]
    assert jwts.claims(tokens["access_token"])["sub"] == "bob"


async def test_code_exchange_with_the_wrong_verifier_is_refused(
    oauth_server: oauth_server_module.OAuthServer,
) -> None:
    verifier, _ = browser.new_pkce()
    other_verifier, _ = browser.new_pkce()
    code, redirect_uri = await browser.authorize_with_browser(oauth_server, code_verifier=verifier)

    with pytest.raises(oauth_server_module.ServerError, match="invalid_grant"):
        oauth_server.exchange_code(code, redirect_uri=redirect_uri, code_verifier=other_verifier)


async def test_an_unregistered_redirect_uri_fails_the_flow_with_a_clear_error(
    oauth_server: oauth_server_module.OAuthServer,
) -> None:
    verifier, _ = browser.new_pkce()

    with pytest.raises(browser.BrowserFlowError, match="redirect_uri"):
        await browser.authorize_with_browser(
            oauth_server, code_verifier=verifier, redirect_uri="http://127.0.0.1/elsewhere"
        )
