"""The kind end-to-end suite is opt-in: tests marked ``e2e`` run only when asked for with
``pytest -m e2e`` (they create a cluster and build images: minutes), and skip where docker, kind,
kubectl or helm is missing."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: creates a kind cluster (scripts/kind-e2e); opt-in with -m e2e"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "e2e" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="kind end-to-end: opt-in with pytest -m e2e")
    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.add_marker(skip)
