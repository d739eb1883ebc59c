"""The agents world: dev mode with Agents whose first keys dev mode writes to the state folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from strongroom_cli.devmode import environment
from tests import canary
from tests.devfixtures import dev_folder, echo_port
from tests.jwt_e2e import devworld
from tests.sidecar.conftest import (
    control_plane,
    http,
    make_sidecar,
    root_keyring,
    storage,
    upstream,
    world,
)

__all__ = [
    "control_plane",
    "dev_folder",
    "echo_port",
    "http",
    "make_sidecar",
    "root_keyring",
    "storage",
    "upstream",
    "world",
]


def agent_yaml(name: str, access: str, *, suspended: bool = False) -> str:
    return f"""
apiVersion: strongroom.dev/v1alpha1
kind: Agent
metadata: {{name: {name}, namespace: default}}
spec:
  appRef: demo
  suspended: {str(suspended).lower()}
  access: {access}
"""


def resources() -> str:
    return "---".join(
        [
            """
apiVersion: strongroom.dev/v1alpha1
kind: App
metadata: {name: demo, namespace: default}
spec:
  serviceAccounts: [demo]
  policy:
    rules:
      - {name: bot-reads, callers: [agent/ci-bot], grants: [echo-demo], methods: [GET]}
""",
            """
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {name: bot-own, namespace: default}
spec: {appRef: demo, providerRef: twin, principal: {kind: agent, id: ci-bot}}
""",
            agent_yaml("ci-bot", "[{grant: echo-demo}]"),
            agent_yaml("reporter", "[{provider: echo}]"),
        ]
    )


@pytest.fixture
async def agents_env(
    dev_folder: Path, tmp_path: Path, echo_port: int
) -> AsyncIterator[environment.DevEnvironment]:
    devworld.write(dev_folder, "app.yaml", "")
    devworld.write(dev_folder, "zz-agents.yaml", resources())
    env = await devworld.start(dev_folder, tmp_path / "state", echo_port)
    canary.register(env._echo_credential)
    for path in env.agent_key_files:
        canary.register(path.read_text().strip())
    assert env.loaded.problems == [], env.loaded.problems
    try:
        yield env
    finally:
        await env.stop()


def key_of(env: environment.DevEnvironment, agent: str) -> str:
    return (env.options.state_dir / "agents" / f"{agent}.key").read_text().strip()
