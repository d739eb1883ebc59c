"""JWT identity against a real identity provider: the npm `oidc-provider` server of the OAuth
test harness issues RS256 JWT access tokens; the sidecar verifies them against its JWKS, and a
signing key the provider rotates is accepted after a refetch."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from strongroom_cli.devmode import environment
from tests import canary
from tests.jwt_e2e import devworld

oauth_server = pytest.importorskip("tests.support.oauth_server")
jwts = pytest.importorskip("tests.support.jwts")


@pytest.fixture
def provider(tmp_path: Path) -> Any:
    try:
        server = oauth_server.OAuthServer.start(tmp_path / "idp", access_token_ttl=300)
    except oauth_server.ServerError as e:
        pytest.skip(f"the OAuth test server cannot run here: {e}")
    yield server
    server.stop()


@pytest.fixture
async def idp_env(
    dev_folder: Path, tmp_path: Path, echo_port: int, provider: Any
) -> AsyncIterator[environment.DevEnvironment]:
    devworld.write(
        dev_folder,
        "app.yaml",
        f"""
apiVersion: strongroom.dev/v1alpha1
kind: App
metadata: {{name: demo, namespace: default}}
spec:
  serviceAccounts: [demo]
  identity:
    issuer: {provider.issuer}
    jwksURL: {provider.jwks_url}
    audiences: [{provider.audience}]
    algorithms: [RS256]
---
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {{name: service-echo, namespace: default}}
spec:
  appRef: demo
  providerRef: echo
  principal: {{kind: user, id: {provider.service_client.client_id}}}
""",
    )
    env = await devworld.start(
        dev_folder, tmp_path / "state", echo_port, jwks_min_refetch_seconds=0.0
    )
    canary.register(env._echo_credential)
    try:
        yield env
    finally:
        await env.stop()


def _token(provider: Any) -> str:
    token = str(provider.client_credentials()["access_token"])
    canary.register(token)
    return token


async def test_tokens_of_a_real_provider_verify_and_a_rotated_signing_key_is_refetched(
    idp_env: environment.DevEnvironment, provider: Any
) -> None:
    first = _token(provider)
    headers = {"Strongroom-Provider": "echo"}
    reply = await devworld.call(idp_env, {"Strongroom-User-Token": first, **headers})
    assert reply.status == 200, reply
    event = await devworld.audit_event(idp_env, reply.audit_id)
    assert event["principal"] == f"user:{provider.service_client.client_id}"
    assert canary.found_in(json.dumps(event)) == []

    old_kid = jwts.header(first)["kid"]
    provider.rotate_signing_key(keep_old=False)
    second = _token(provider)
    assert jwts.header(second)["kid"] != old_kid
    rotated = await devworld.call(idp_env, {"Strongroom-User-Token": second, **headers})
    assert rotated.status == 200, rotated
    gone = await devworld.call(idp_env, {"Strongroom-User-Token": first, **headers})
    assert (gone.status, gone.code) == (401, "unknown_key")
