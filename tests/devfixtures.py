"""Dev mode as the integration fixture: the real control plane on SQLite, the real sidecar and the
echo upstream, on loopback ports chosen per test, from a copy of examples/ plus test resources."""

from __future__ import annotations

import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from strongroom_cli.devmode import environment
from tests import canary

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

EXTRA_RESOURCES = """
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {name: alice-echo, namespace: default}
spec:
  appRef: demo
  providerRef: echo
  principal: {kind: user, id: alice}
---
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {name: expired-echo, namespace: default}
spec:
  appRef: demo
  providerRef: twin
  principal: {kind: system, id: old-job}
  expiresAt: "2020-01-01T00:00:00Z"
---
apiVersion: strongroom.dev/v1alpha1
kind: Provider
metadata:
  name: twin
  namespace: default
  annotations: {strongroom.dev/dev-echo: "true"}
spec:
  appRef: demo
  type: secret
  allowedHosts: ["127.0.0.1:ECHO_PORT"]
---
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {name: twin-a, namespace: default}
spec: {appRef: demo, providerRef: twin, principal: {kind: system, id: a}}
---
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {name: twin-b, namespace: default}
spec: {appRef: demo, providerRef: twin, principal: {kind: system, id: b}}
---
apiVersion: strongroom.dev/v1alpha1
kind: Provider
metadata:
  name: deadend
  namespace: default
  annotations: {strongroom.dev/dev-echo: "true"}
spec:
  appRef: demo
  type: secret
  allowedHosts: ["127.0.0.1:DEAD_PORT"]
---
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {name: deadend-demo, namespace: default}
spec: {appRef: demo, providerRef: deadend, principal: {kind: system, id: demo}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def echo_port() -> int:
    return free_port()


@pytest.fixture
def dev_folder(tmp_path: Path, echo_port: int) -> Path:
    """examples/ with the echo upstream on a free port, plus the test resources above."""
    folder = tmp_path / "resources"
    shutil.copytree(EXAMPLES, folder)
    for file in folder.glob("*.yaml"):
        file.write_text(file.read_text().replace("127.0.0.1:15090", f"127.0.0.1:{echo_port}"))
    extra = EXTRA_RESOURCES.replace("ECHO_PORT", str(echo_port))
    (folder / "zz-test.yaml").write_text(extra.replace("DEAD_PORT", str(free_port())))
    return folder


def options(
    folder: Path, state_dir: Path, echo_port: int, **overrides: object
) -> environment.DevOptions:
    values: dict[str, object] = {
        "folder": folder,
        "state_dir": state_dir,
        "control_plane_port": 0,
        "proxy_port": 0,
        "health_port": 0,
        "echo_port": echo_port,
    }
    values.update(overrides)
    return environment.DevOptions(**values)  # type: ignore[arg-type]


@pytest.fixture
async def dev_env(
    dev_folder: Path, tmp_path: Path, echo_port: int
) -> AsyncIterator[environment.DevEnvironment]:
    env = await environment.DevEnvironment.start(options(dev_folder, tmp_path / "state", echo_port))
    canary.register(env._echo_credential)
    try:
        yield env
    finally:
        await env.stop()
