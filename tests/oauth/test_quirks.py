"""Token endpoints that answer their own way, reproduced for the token-response mapping tests."""

from __future__ import annotations

import time
import urllib.parse

from tests.support import oauth_server as oauth_server_module
from tests.support.fixtures import ServerFactory

FORM = {"grant_type": "client_credentials"}


def test_expires_at_replaces_expires_in(oauth_server: oauth_server_module.OAuthServer) -> None:
    oauth_server.set_quirks(expires_at=True)

    body = oauth_server.token_request(oauth_server.service_client, FORM).json()

    assert "expires_in" not in body
    assert abs(body["expires_at"] - (time.time() + 5)) < 3


def test_expires_in_can_be_left_out(oauth_server: oauth_server_module.OAuthServer) -> None:
    oauth_server.set_quirks(omit_expires_in=True)

    body = oauth_server.token_request(oauth_server.service_client, FORM).json()

    assert "expires_in" not in body
    assert "expires_at" not in body
    assert body["access_token"]


def test_tokens_can_be_nested_like_slack(oauth_server: oauth_server_module.OAuthServer) -> None:
    oauth_server.set_quirks(nest_under="authed_user")

    body = oauth_server.token_request(oauth_server.service_client, FORM).json()

    assert body["ok"] is True
    assert body["authed_user"]["token_type"] == "Bearer"
    assert "access_token" not in body


def test_answers_can_be_form_encoded_like_github(
    oauth_server: oauth_server_module.OAuthServer,
) -> None:
    oauth_server.set_quirks(form_encoded=True)

    answer = oauth_server.token_request(oauth_server.service_client, FORM)

    assert answer.headers["content-type"].startswith("application/x-www-form-urlencoded")
    body = dict(urllib.parse.parse_qsl(answer.text))
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == "5"


def test_quirks_can_be_set_at_start_and_cleared(
    oauth_server_factory: ServerFactory,
) -> None:
    server = oauth_server_factory(quirks={"omit_expires_in": True})
    assert "expires_in" not in server.client_credentials()

    server.set_quirks()

    assert server.client_credentials()["expires_in"] == 5
