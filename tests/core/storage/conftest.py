"""Fixtures for the SQLite storage tests: a real database file per test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from strongroom_core.storage import records, sqlite


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "strongroom.db"


@pytest.fixture
async def storage(db_path: Path) -> AsyncIterator[sqlite.SqliteStorage]:
    store = sqlite.SqliteStorage(db_path, poll_interval=0.05)
    await store.open()
    yield store
    await store.close()


@pytest.fixture(autouse=True)
async def no_tasks_left_behind() -> AsyncIterator[None]:
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() - before - {asyncio.current_task()} if not t.done()]
    assert not left, f"tasks left running: {left}"


def make_grant(
    name: str = "g1", app: str = "shop", namespace: str = "team-a"
) -> records.GrantRecord:
    """A sealed grant record as the reconcile logic would store it."""
    return records.GrantRecord(
        namespace=namespace,
        name=name,
        uid=f"uid-{name}",
        app=app,
        provider="github",
        principal_kind="user",
        principal_id="alice",
        sealed="sr1.kid.nonce.ciphertext",
        scopes=("repo",),
    )


GrantMaker = Callable[..., records.GrantRecord]


@pytest.fixture
def grant() -> GrantMaker:
    """``grant(name="g1", app="shop", namespace="team-a")`` builds a record."""
    return make_grant
