"""Fixtures: a key target (the dev state folder, or the emulator through a kubeconfig) seeded
with Apps and sealed grants, and a check that every grant opens with what the target holds."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from strongroom_core.sealing import appkeys, credentials, keys, rootkeys
from strongroom_core.storage import ports, records, sqlite
from strongroom_operator.kubestore import connecting
from strongroom_operator.kubestore import rootkeys as kuberootkeys
from tests import canary
from tests.kube import emulator, fixtures
from tests.kube.fixtures import kube

__all__ = ["kube", "no_tasks_left_behind", "tasks_checked"]

no_tasks_left_behind = fixtures.no_tasks_left_behind
APPS = {("team-a", "shop"): 3, ("team-b", "blog"): 2}


@pytest.fixture(autouse=True)
def tasks_checked(no_tasks_left_behind: None) -> None:
    """Every test here is checked for tasks left running."""


@dataclasses.dataclass
class Target:
    argv: list[str]
    """The CLI flags that select this target."""
    storage: ports.Storage
    root_store: rootkeys.RootKeyStore
    secrets: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    """(namespace, grant) → the token sealed in it."""

    async def seed(self) -> None:
        root = await rootkeys.load_or_create(self.root_store)
        for (namespace, app), count in APPS.items():
            document = appkeys.new_app_keys_document(root, namespace, app)
            await self.storage.put_document(namespace, app, "keys", document, None)
            keyring = appkeys.unwrap_app_keys(root, document, namespace, app)
            for index in range(count):
                await self.add_grant(keyring, namespace, app, f"{app}-g{index}")

    async def add_grant(self, keyring: keys.Keyring, namespace: str, app: str, name: str) -> None:
        record = records.GrantRecord(
            namespace=namespace,
            name=name,
            uid=f"uid-{name}",
            app=app,
            provider="github",
            principal_kind="user",
            principal_id="alice",
            sealed="",
        )
        token = canary.new("token")
        sealed = credentials.seal_for_record(keyring.active, record, {"token": token})
        await self.storage.create_grant(dataclasses.replace(record, sealed=sealed))
        self.secrets[(namespace, name)] = token

    async def assert_every_grant_readable(self) -> None:
        root = await self.root_store.load()
        for namespace, app in APPS:
            document = await self.storage.get_document(namespace, app, "keys")
            assert document is not None
            keyring = appkeys.unwrap_app_keys(root, document.body, namespace, app)
            for record in await self.storage.list_grants(namespace, app):
                opened = credentials.open_grant_credential(keyring, record)
                assert opened == {"token": self.secrets[(namespace, record.name)]}


@contextlib.asynccontextmanager
async def dev_target(state_dir: Path) -> AsyncIterator[Target]:
    state_dir.mkdir(mode=0o700, exist_ok=True)
    async with sqlite.SqliteStorage(state_dir / "strongroom.sqlite3") as storage:
        store = rootkeys.FileRootKeyStore(state_dir / "root-keys.json")
        yield Target(["--state-dir", str(state_dir)], storage, store)


@contextlib.asynccontextmanager
async def cluster_target(kube: emulator.KubeEmulator) -> AsyncIterator[Target]:
    namespace = emulator.CONTROL_PLANE_NAMESPACE
    storage = await connecting.open_storage(namespace=namespace, kubeconfig=kube.kubeconfig)
    try:
        store = kuberootkeys.KubernetesRootKeyStore(storage.kube, namespace)
        argv = ["--kubeconfig", str(kube.kubeconfig), "--control-plane-namespace", namespace]
        yield Target(argv, storage, store)
    finally:
        await storage.close()


@pytest.fixture(params=["dev", "cluster"])
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    if request.param == "dev":
        async with dev_target(tmp_path / "state") as found:
            yield found
        return
    async with emulator.KubeEmulator.start() as running, cluster_target(running) as found:
        canary.register(running.admin_token)
        yield found
