"""Dev mode as the world for end-to-end identity, policy and agent tests: the real control
plane on SQLite, the real sidecar and the echo upstream, started from a folder of YAML that a
test extends, and small helpers to call the sidecar and read audit back from storage."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp

from strongroom_cli.devmode import environment
from strongroom_core.storage import records
from tests import devfixtures

APP_YAML = """
apiVersion: strongroom.dev/v1alpha1
kind: App
metadata: {name: demo, namespace: default}
spec:
  serviceAccounts: [demo]
"""


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text)


async def start(
    folder: Path, state_dir: Path, echo_port: int, **sidecar: Any
) -> environment.DevEnvironment:
    options = devfixtures.options(folder, state_dir, echo_port, sidecar_overrides=sidecar)
    return await environment.DevEnvironment.start(options)


class Reply:
    def __init__(self, status: int, headers: Mapping[str, str], body: Any) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def code(self) -> str | None:
        return self.headers.get("Strongroom-Error")

    @property
    def audit_id(self) -> str:
        return self.headers.get("Strongroom-Audit-Id", "")

    def __repr__(self) -> str:
        detail = self.body.get("detail") if isinstance(self.body, dict) else None
        return f"Reply({self.status}, {self.code}, {detail!r})"


async def call(
    env: environment.DevEnvironment,
    headers: Mapping[str, str],
    *,
    path: str = "/x",
    method: str = "GET",
    target: str | None = None,
) -> Reply:
    """One call through the sidecar to the echo upstream (or ``target``)."""
    sent = {"Strongroom-Target": target or f"{env.echo_url}{path}", **headers}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{env.sidecar_url}/proxy", headers=sent) as response,
    ):
        try:
            body = await response.json(content_type=None)
        except ValueError:
            body = None
        return Reply(response.status, dict(response.headers), body)


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = 10.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(0.05)


async def audit_event(env: environment.DevEnvironment, audit_id: str) -> dict[str, Any]:
    """The audit record of a call, once the sidecar has delivered it to the control plane."""
    assert audit_id, "the answer carries no audit id"
    found: list[dict[str, Any]] = []

    async def delivered() -> bool:
        events = await env.storage.query_audit(records.AuditQuery(limit=1000))
        found[:] = [e for e in events if e.get("id") == audit_id]
        return bool(found)

    await eventually(delivered, what=f"audit event {audit_id}")
    return found[0]
