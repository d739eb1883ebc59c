"""The JWT world: dev mode whose App verifies end users' tokens against a JWKS served by a real
HTTP server on loopback, with user and group grants for the echo provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from strongroom_cli.devmode import environment
from tests import canary
from tests.core.identity import factories
from tests.devfixtures import dev_folder, echo_port
from tests.jwt_e2e import devworld, jwks_server

__all__ = ["dev_folder", "echo_port"]

GRANTS = """
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {name: staff-echo, namespace: default}
spec: {appRef: demo, providerRef: echo, principal: {kind: group, id: staff}}
---
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {name: ops-echo, namespace: default}
spec: {appRef: demo, providerRef: echo, principal: {kind: group, id: ops}}
"""


@pytest.fixture
def signer() -> factories.Signer:
    return factories.Signer.new("RS256", kid="key-one")


@pytest.fixture
async def jwks(signer: factories.Signer) -> AsyncIterator[jwks_server.JwksServer]:
    server = jwks_server.JwksServer([signer])
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def jwt_env(
    dev_folder: Path, tmp_path: Path, echo_port: int, jwks: jwks_server.JwksServer
) -> AsyncIterator[environment.DevEnvironment]:
    devworld.write(dev_folder, "app.yaml", jwks_server.identity_yaml(jwks.url))
    devworld.write(dev_folder, "zz-jwt.yaml", GRANTS)
    # No floor between JWKS fetches, so a rotation is picked up at the first unknown kid.
    env = await devworld.start(
        dev_folder, tmp_path / "state", echo_port, jwks_min_refetch_seconds=0.0
    )
    canary.register(env._echo_credential)
    try:
        yield env
    finally:
        await env.stop()
