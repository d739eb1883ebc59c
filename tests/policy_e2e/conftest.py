"""The policy world: dev mode with a provider whose grants each carry one kind of rule (App
rules scoped by grant, and Grant restrictions)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from strongroom_cli.devmode import environment
from tests import canary
from tests.devfixtures import dev_folder, echo_port
from tests.jwt_e2e import devworld

__all__ = ["dev_folder", "echo_port"]

GRANTS = (
    "r-methods",
    "r-paths",
    "r-hosts-ok",
    "r-hosts-no",
    "r-window-ok",
    "r-window-no",
    "r-source-ok",
    "r-source-no",
    "r-rate",
    "r-quota",
    "r-callers",
    "r-open",
)


def _closed_window() -> str:
    """A one-hour window twelve hours away from now (UTC): never open during the test."""
    hour = (time.gmtime().tm_hour + 12) % 24
    return f'{{start: "{hour:02d}:00", end: "{(hour + 1) % 24:02d}:00", zone: UTC}}'


def resources(echo_port: int) -> str:
    app = f"""
apiVersion: strongroom.dev/v1alpha1
kind: App
metadata: {{name: demo, namespace: default}}
spec:
  serviceAccounts: [demo]
  policy:
    rules:
      - {{name: acme-paths, grants: [r-paths], paths: ["/repos/acme/**"]}}
      - {{grants: [r-hosts-ok], hosts: ["127.0.0.1:{echo_port}"]}}
      - {{grants: [r-hosts-no], hosts: [api.example.com]}}
      - {{grants: [r-window-ok], timeWindows: [{{start: "00:00", end: "24:00"}}]}}
      - {{name: night-shift, grants: [r-window-no], timeWindows: [{_closed_window()}]}}
      - {{grants: [r-source-ok], sourceRanges: [127.0.0.0/8, "::1"]}}
      - {{grants: [r-source-no], sourceRanges: [10.0.0.0/8]}}
      - {{grants: [r-rate], rateLimit: {{requests: 2, period: 1h}}}}
      - {{grants: [r-quota], quota: {{requests: 1, period: day, zone: UTC}}}}
      - {{name: sidecar-reads, grants: [r-callers], callers: [dev/sidecar], methods: [GET]}}
---
apiVersion: strongroom.dev/v1alpha1
kind: Provider
metadata:
  name: ruled
  namespace: default
  annotations: {{strongroom.dev/dev-echo: "true"}}
spec:
  appRef: demo
  type: secret
  allowedHosts: ["127.0.0.1:{echo_port}"]
"""
    grants = []
    for name in GRANTS:
        restrictions = "\n  restrictions: {methods: [GET]}" if name == "r-methods" else ""
        grants.append(
            f"""
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {{name: {name}, namespace: default}}
spec:
  appRef: demo
  providerRef: ruled
  principal: {{kind: system, id: {name}}}{restrictions}
"""
        )
    return "---".join([app, *grants])


@pytest.fixture
async def policy_env(
    dev_folder: Path, tmp_path: Path, echo_port: int
) -> AsyncIterator[environment.DevEnvironment]:
    devworld.write(dev_folder, "app.yaml", "")
    devworld.write(dev_folder, "zz-policy.yaml", resources(echo_port))
    env = await devworld.start(dev_folder, tmp_path / "state", echo_port)
    canary.register(env._echo_credential)
    problems = [(ref, o.message) for ref, o in env.report.items() if not o.ok]
    assert env.loaded.problems == [], env.loaded.problems
    assert not [p for p in problems if p[0][2].startswith("r-") or p[0][0] == "App"], problems
    try:
        yield env
    finally:
        await env.stop()
