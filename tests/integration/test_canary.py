"""Canary: known secrets go through every path (injection, refusals, upstream errors, audit,
sealing at rest) and must appear in none of the places a person or a scraper can read: stdout,
stderr, log records (the suite-wide watcher), metrics, problem bodies, exception messages, audit
records, the state folder and the SQLite database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

import strongroom
from strongroom_cli.devmode import environment
from strongroom_core.storage import records
from tests import canary


def _leaks(where: str, text: str) -> list[str]:
    return [f"{where}: {value[:10]}…" for value in canary.found_in(text)]


async def test_a_canary_secret_appears_nowhere_a_person_or_scraper_can_read(
    dev_env: environment.DevEnvironment, capfd: pytest.CaptureFixture[str]
) -> None:
    user_token = canary.new("jwt")
    agent_key = canary.new("agentkey")
    query_secret = canary.new("query")
    seen: list[str] = []

    async with strongroom.AsyncApp(dev_env.sidecar_url) as app:
        ok = await app.get(
            f"{dev_env.echo_url}/ok", grant="echo-demo", params={"api_key": query_secret}
        )
        assert ok.json()["credential_ok"] is True
        seen.append(ok.text)
        attempts = [
            {"grant": "alice-echo", "user_token": user_token},
            {"grant": "echo-demo", "agent_key": agent_key},
            {"grant": "deadend-demo"},
            {"grant": "nope", "user_token": user_token},
        ]
        for kwargs in attempts:
            target = f"{dev_env.echo_url}/x?secret={query_secret}"
            try:
                await app.get(target, **kwargs)  # type: ignore[arg-type]
            except strongroom.StrongroomError as error:
                seen.append(str(error))
                seen.append(repr(error))
                if isinstance(error, strongroom.SidecarError) and error.response is not None:
                    seen.append(error.response.text)

    async with httpx.AsyncClient() as client:
        metrics = await client.get(f"{dev_env.health_url}/metrics")
    assert metrics.status_code == 200
    seen.append(metrics.text)

    events: list[dict[str, object]] = []
    for _ in range(100):  # audit delivery is asynchronous
        events = await dev_env.storage.query_audit(records.AuditQuery(limit=100))
        if len(events) >= 1 + len(attempts):
            break
        await asyncio.sleep(0.05)
    assert len(events) >= 1 + len(attempts)
    seen.extend(repr(event) for event in events)

    captured = capfd.readouterr()
    leaks = _leaks("stdout", captured.out) + _leaks("stderr", captured.err)
    leaks += [leak for text in seen for leak in _leaks("answers/metrics/audit", text)]
    leaks += _leaks_at_rest(dev_env.options.state_dir)
    assert not leaks, leaks


def _leaks_at_rest(state_dir: Path) -> list[str]:
    found: list[str] = []
    for path in state_dir.rglob("*"):
        if path.is_file():
            found += _leaks(str(path.name), path.read_bytes().decode("latin-1"))
    return found


async def test_the_echo_credential_is_sealed_at_rest(dev_env: environment.DevEnvironment) -> None:
    record = await dev_env.storage.get_grant("default", "echo-demo")
    assert record is not None
    assert record.sealed.startswith("sr1.")
    assert dev_env._echo_credential not in record.sealed
