"""Pytest fixtures for the emulator, importable by any test folder::

    # tests/<area>/conftest.py
    from tests.kube.fixtures import kube  # noqa: F401  (re-exported fixture)

``kube`` is a running :class:`emulator.KubeEmulator` with the project's CRDs applied and the
namespaces ``default``, ``kube-system`` and ``strongroom-system``; ``raw`` is a bare HTTP
client to it (``await raw.call("GET", path)`` → ``(status, body)``) for wire-level assertions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests import canary
from tests.kube import apiclient, emulator


@pytest.fixture
async def kube() -> AsyncIterator[emulator.KubeEmulator]:
    async with emulator.KubeEmulator.start(bookmark_interval=0.2) as running:
        canary.register(running.admin_token)  # no client or operator may ever log it
        yield running


@pytest.fixture
async def raw(kube: emulator.KubeEmulator) -> AsyncIterator[apiclient.Raw]:
    """Plain HTTP to the emulator, authenticated as admin."""
    async with aiohttp.ClientSession() as session:
        yield apiclient.Raw(kube, session)


@pytest.fixture
async def no_tasks_left_behind() -> AsyncIterator[None]:
    """Fails a test that leaves asyncio tasks running (a watch, an operator); request it from
    an autouse fixture in a conftest, as tests/kube/conftest.py does."""
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() - before - {asyncio.current_task()} if not t.done()]
    assert not left, f"tasks left running: {left}"
