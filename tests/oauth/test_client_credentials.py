"""Client credentials, token lifetimes and the token-endpoint counters and faults."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support import jwts
from tests.support import oauth_server as oauth_server_module
from tests.support.fixtures import ServerFactory


def test_client_credentials_gives_a_jwt_for_the_api(
    oauth_server: oauth_server_module.OAuthServer,
) -> None:
    tokens = oauth_server.client_credentials(scope="api:read api:write")

    jwks = httpx.get(oauth_server.jwks_url).json()
    claims = jwts.verify(
        tokens["access_token"], jwks, issuer=oauth_server.issuer, audience=oauth_server.audience
    )
    assert claims["client_id"] == oauth_server.service_client.client_id
    assert claims["scope"] == "api:read api:write"
    assert "refresh_token" not in tokens
    assert oauth_server.counters()["tokens_issued"] == {"client_credentials": 1}


def test_a_wrong_client_secret_is_refused(oauth_server: oauth_server_module.OAuthServer) -> None:
    impostor = oauth_server_module.Client(oauth_server.service_client.client_id, "not-the-secret")

    answer = oauth_server.token_request(impostor, {"grant_type": "client_credentials"})

    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert oauth_server.counters()["token_errors"] == {"invalid_client": 1}


def test_the_access_token_expires_after_its_ttl(oauth_server_factory: ServerFactory) -> None:
    server = oauth_server_factory(access_token_ttl=1)
    tokens = server.client_credentials()
    claims = jwts.claims(tokens["access_token"])
    jwks = httpx.get(server.jwks_url).json()

    assert tokens["expires_in"] == 1
    assert claims["exp"] - claims["iat"] == 1
    time.sleep(max(0.0, claims["exp"] - time.time()) + 0.1)
    with pytest.raises(jwts.InvalidToken, match="expired"):
        jwts.verify(tokens["access_token"], jwks, issuer=server.issuer, audience=server.audience)


def test_injected_faults_answer_the_next_token_requests_then_stop(
    oauth_server: oauth_server_module.OAuthServer,
) -> None:
    oauth_server.inject_faults(status=503, count=2)
    form = {"grant_type": "client_credentials"}

    statuses = [
        oauth_server.token_request(oauth_server.service_client, form).status_code for _ in range(3)
    ]

    assert statuses == [503, 503, 200]
    counters = oauth_server.counters()
    assert counters["faults_injected"] == 2
    assert counters["token_requests_total"] == 3
    assert counters["token_requests"] == {"client_credentials": 1}


def test_resetting_the_counters_starts_them_from_zero(
    oauth_server: oauth_server_module.OAuthServer,
) -> None:
    oauth_server.client_credentials()

    oauth_server.reset_counters()

    counters = oauth_server.counters()
    assert counters["token_requests_total"] == 0
    assert counters["tokens_issued"] == {}
