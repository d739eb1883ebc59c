"""Fixtures for the sealing tests: real keys, a real SQLite store per test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from strongroom_core.sealing import keys, rootkeys
from strongroom_core.storage import sqlite


@pytest.fixture(autouse=True)
async def no_sealing_tasks_left_behind() -> AsyncIterator[None]:
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() - before - {asyncio.current_task()} if not t.done()]
    assert not left, f"tasks left running: {left}"


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[sqlite.SqliteStorage]:
    store = sqlite.SqliteStorage(tmp_path / "strongroom.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def root() -> keys.Keyring:
    return rootkeys.new_root_keyring()


@pytest.fixture
async def root_store(tmp_path: Path, root: keys.Keyring) -> rootkeys.FileRootKeyStore:
    store = rootkeys.FileRootKeyStore(tmp_path / "keys" / "root-keys.json")
    await store.save(root)
    return store
