"""Suite-wide fixtures: the canary log watcher and a guard against leaked asyncio tasks."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests import canary


@pytest.fixture(scope="session", autouse=True)
def _secrets_never_reach_logs() -> Iterator[None]:
    watcher = canary.LeakWatcher(level=logging.DEBUG)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(watcher)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(watcher)
    root.setLevel(previous_level)
    assert not canary.leaks, "secrets reached log records:\n" + "\n".join(canary.leaks)
