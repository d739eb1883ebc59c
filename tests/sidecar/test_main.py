"""The ``strongroom-sidecar`` command: settings from the environment, JSON logs, graceful
SIGTERM (finish in flight, flush audit, exit 0)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys

import aiohttp

from strongroom_core.storage import records
from tests.sidecar.conftest import (
    APP,
    NS,
    SIDECAR_TOKEN,
    ControlPlane,
    Upstream,
    World,
    eventually,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_command_serves_until_sigterm_then_flushes_audit_and_exits_cleanly(
    world: World, upstream: Upstream, control_plane: ControlPlane
) -> None:
    await world.add_grant("echo-demo", {"token": "t-main"})
    proxy_port, health_port = free_port(), free_port()
    env = dict(
        os.environ,
        STRONGROOM_SIDECAR_CONTROL_PLANE_URL=control_plane.url,
        STRONGROOM_SIDECAR_NAMESPACE=NS,
        STRONGROOM_SIDECAR_APP=APP,
        STRONGROOM_SIDECAR_CONTROL_PLANE_TOKEN=SIDECAR_TOKEN,
        STRONGROOM_SIDECAR_PROXY_PORT=str(proxy_port),
        STRONGROOM_SIDECAR_HEALTH_PORT=str(health_port),
        STRONGROOM_SIDECAR_HEALTH_HOST="127.0.0.1",
        STRONGROOM_SIDECAR_ALLOW_LOOPBACK_TARGETS="true",
        STRONGROOM_SIDECAR_AUDIT_FLUSH_INTERVAL="30",
        STRONGROOM_SIDECAR_CALLER="pod/main-test",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "strongroom_sidecar.main",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as http:

            async def ready() -> bool:
                try:
                    async with http.get(f"http://127.0.0.1:{health_port}/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(ready, within=20)
            async with http.get(
                f"http://127.0.0.1:{proxy_port}/proxy",
                headers={
                    "Strongroom-Target": upstream.url("/echo"),
                    "Strongroom-Grant": "echo-demo",
                },
            ) as response:
                assert response.status == 200
                audit_id = response.headers["Strongroom-Audit-Id"]
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    printed = [json.loads(line) for line in stdout.decode().splitlines()]
    assert [event["id"] for event in printed] == [audit_id]
    log_lines = [json.loads(line) for line in stderr.decode().splitlines()]
    assert any(line["message"] == "sidecar stopped" for line in log_lines)
    assert "t-main" not in stderr.decode() + stdout.decode()
    stored = await world.storage.query_audit(records.AuditQuery())
    assert audit_id in {event["id"] for event in stored}


async def test_command_with_a_missing_variable_names_it_and_exits_2() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_SIDECAR_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "strongroom_sidecar.main",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2
    assert "STRONGROOM_SIDECAR_CONTROL_PLANE_URL" in stderr.decode()
