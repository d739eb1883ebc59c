"""The storages a refresh test can run its control plane on: SQLite (dev mode's) and Kubernetes
(the operator's, on the project's emulator), so the race is shown on both.

``race_storage`` is parametrised over both; a test module that wants both overrides the
``storage`` fixture with one that returns it (test_race.py does), and tests/sidecar's control
plane and harness.RefreshWorld, which ask for ``storage``, then run on each in turn. The
Kubernetes one is built as tests/kubestore builds it: the control plane's namespace, admin
credentials, a SQLite audit delegate (audit is never kept in Kubernetes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from strongroom_core.storage import ports, sqlite
from strongroom_kube import client, config
from strongroom_operator.kubestore import storage as kubestorage
from tests import canary
from tests.kube import emulator

NAMES = ["sqlite", "kubernetes"]


@pytest.fixture(params=NAMES)
async def race_storage(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[ports.Storage]:
    if request.param == "sqlite":
        async with sqlite.SqliteStorage(tmp_path / "strongroom.sqlite", poll_interval=0.05) as lite:
            yield lite
        return
    async with (
        emulator.KubeEmulator.start(bookmark_interval=0.2) as kube,
        sqlite.SqliteStorage(tmp_path / "audit.db") as audit,
    ):
        canary.register(kube.admin_token)
        cluster = config.ClusterConfig(server=kube.url, token=kube.admin_token)
        store = kubestorage.KubernetesStorage(
            client.KubeClient(cluster),
            emulator.CONTROL_PLANE_NAMESPACE,
            audit=audit,
            watch_timeout=5,
        )
        await store.open()
        try:
            yield store
        finally:
            await store.close()
