"""A real control plane per test: SQLite file, file root key store, aiohttp server on
127.0.0.1 port 0, and a real HTTP client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from strongroom_core.sealing import publickey, rootkeys
from strongroom_core.storage import sqlite
from strongroom_operator.controlplane import auth, keyservice, server, settings
from tests.controlplane import harness as h


@pytest.fixture(autouse=True)
async def no_tasks_left_behind() -> AsyncIterator[None]:
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() - before - {asyncio.current_task()} if not t.done()]
    assert not left, f"tasks left running: {left}"


@pytest.fixture
def cp_settings() -> settings.ControlPlaneSettings:
    return settings.ControlPlaneSettings(heartbeat_seconds=0.2, shutdown_timeout=1.0)


@pytest.fixture
def max_changes() -> int:
    """The storage's change-log length; a module overrides it to test pruning."""
    return sqlite.DEFAULT_MAX_CHANGES


@pytest.fixture
async def harness(
    tmp_path: Path, cp_settings: settings.ControlPlaneSettings, max_changes: int
) -> AsyncIterator[h.Harness]:
    storage = sqlite.SqliteStorage(
        tmp_path / "strongroom.db", poll_interval=0.05, max_changes=max_changes
    )
    await storage.open()
    root_store = rootkeys.FileRootKeyStore(tmp_path / "root-keys.json")
    await rootkeys.load_or_create(root_store)
    key_service = keyservice.KeyService(storage, root_store)
    await key_service.ensure_app_keys("team-a", "shop")
    sealing_key = publickey.SealingKey.generate()
    cp = server.ControlPlane(
        storage,
        key_service,
        sealing_key,
        auth.StaticTokenAuthenticator(h.CALLERS),
        cp_settings,
    )
    runner, port = await server.start(cp, "127.0.0.1", 0)
    client = aiohttp.ClientSession()
    try:
        yield h.Harness(
            storage,
            root_store,
            key_service,
            sealing_key,
            cp,
            f"http://127.0.0.1:{port}",
            client,
            runner,
        )
    finally:
        await client.close()
        await runner.cleanup()
        await storage.close()
