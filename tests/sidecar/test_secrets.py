"""No credential, user token or agent key reaches a log line, stdout, a problem body, metrics
or an audit record — whatever path the call takes."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest

from strongroom_core.storage import records
from strongroom_sidecar import logs
from tests import canary
from tests.sidecar.conftest import (
    SidecarFactory,
    Upstream,
    World,
    eventually,
    health_url,
    proxy_url,
)


async def test_secrets_appear_nowhere_the_sidecar_writes(
    world: World,
    upstream: Upstream,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    credential = canary.new("credential")
    user_token = canary.new("user-jwt")
    agent_key = canary.new("agent-key")
    query_secret = canary.new("query-value")
    await world.add_grant("echo-demo", {"token": credential})
    await world.add_grant("alice", {"token": credential}, kind="user", principal_id="alice")
    await world.add_grant("nofield", {"other": credential})
    car = await make_sidecar()
    target = upstream.url(f"/echo?key={query_secret}")
    calls = [
        {"Strongroom-Grant": "echo-demo"},
        {"Strongroom-Grant": "alice", "Strongroom-User-Token": user_token},
        {"Strongroom-Grant": "echo-demo", "Strongroom-Agent-Key": agent_key},
        {"Strongroom-Grant": "nofield"},
        {"Strongroom-Provider": "echo", "Strongroom-User-Token": user_token},
    ]
    bodies = []
    ids = []
    for extra in calls:
        async with http.get(
            proxy_url(car), headers={"Strongroom-Target": target, **extra}
        ) as response:
            ids.append(response.headers["Strongroom-Audit-Id"])
            if "Strongroom-Error" in response.headers:
                bodies.append(await response.text())
            else:
                await response.read()

    async def delivered() -> bool:
        stored = await world.storage.query_audit(records.AuditQuery(limit=100))
        return set(ids) <= {e["id"] for e in stored}

    await eventually(delivered)
    async with http.get(health_url(car, "/metrics")) as response:
        metrics_text = await response.text()
    stored = await world.storage.query_audit(records.AuditQuery(limit=100))
    formatter = logs.JsonFormatter()
    log_text = "\n".join(formatter.format(record) for record in caplog.records)
    written = {
        "logs": log_text,
        "stdout": car.audit_stream.getvalue(),  # type: ignore[attr-defined]
        "problems": "\n".join(bodies),
        "metrics": metrics_text,
        "stored audit": json.dumps(stored),
    }
    for where, text in written.items():
        assert canary.found_in(text) == [], where
    assert len(bodies) == 4
