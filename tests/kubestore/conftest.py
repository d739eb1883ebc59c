"""Fixtures: the emulator, a Kubernetes storage on it, and the contract's two backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from strongroom_core.storage import sqlite
from strongroom_kube import client, config
from strongroom_operator.kubestore import storage
from tests import canary, storage_contract
from tests.kube import emulator, fixtures
from tests.kube.fixtures import kube

__all__ = ["backend", "kube", "kubestorage", "no_tasks_left_behind", "tasks_checked"]

NAMESPACE = emulator.CONTROL_PLANE_NAMESPACE


def cluster_of(kube: emulator.KubeEmulator) -> config.ClusterConfig:
    canary.register(kube.admin_token)
    return config.ClusterConfig(server=kube.url, token=kube.admin_token)


@pytest.fixture
async def kubestorage(
    kube: emulator.KubeEmulator, tmp_path: Path
) -> AsyncIterator[storage.KubernetesStorage]:
    async with sqlite.SqliteStorage(tmp_path / "audit.db") as audit:
        store = storage.KubernetesStorage(
            client.KubeClient(cluster_of(kube)), NAMESPACE, audit=audit, watch_timeout=5
        )
        await store.open()
        yield store
        await store.close()


@pytest.fixture(params=["sqlite", "kubernetes"])
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[storage_contract.Backend]:
    if request.param == "sqlite":
        async with sqlite.SqliteStorage(tmp_path / "s.db", poll_interval=0.05) as store:

            async def prune() -> None:
                store.max_changes = 10

            yield storage_contract.Backend(store, prune, writers_changes=150)
        return
    async with (
        emulator.KubeEmulator.start(bookmark_interval=0.2) as running,
        sqlite.SqliteStorage(tmp_path / "audit.db") as audit,
    ):
        kstore = storage.KubernetesStorage(
            client.KubeClient(cluster_of(running)), NAMESPACE, audit=audit, watch_timeout=5
        )
        await kstore.open()

        async def compact() -> None:
            running.compact()

        yield storage_contract.Backend(kstore, compact, writers_changes=40)
        await kstore.close()


@pytest.fixture(autouse=True)
def tasks_checked(no_tasks_left_behind: None) -> None:
    """Every test here is checked for tasks left running."""


no_tasks_left_behind = fixtures.no_tasks_left_behind
