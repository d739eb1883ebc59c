"""The emulator's own tests use the shared fixtures, and may leave no task running."""

from __future__ import annotations

import pytest

from tests.kube import fixtures
from tests.kube.fixtures import kube, raw

__all__ = ["kube", "raw", "tasks_checked"]


@pytest.fixture(autouse=True)
def tasks_checked(no_tasks_left_behind: None) -> None:
    """Every test here is checked for tasks left running."""


no_tasks_left_behind = fixtures.no_tasks_left_behind
