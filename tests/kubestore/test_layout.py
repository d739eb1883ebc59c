"""Where and how records are kept: Secrets in the control plane's namespace, found by hashed
labels, with the port's version in an annotation."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import urllib.parse
from typing import Any

import pytest

from strongroom_core.storage import errors, records
from strongroom_kube import client
from strongroom_operator.kubestore import secrets, storage
from tests import storage_contract
from tests.kube import emulator
from tests.kubestore import conftest

NAMESPACE = emulator.CONTROL_PLANE_NAMESPACE


async def test_a_grant_record_is_a_secret_in_the_control_plane_namespace(
    kube: emulator.KubeEmulator, kubestorage: storage.KubernetesStorage
) -> None:
    kube.create_namespace("team-a")
    record = await kubestorage.create_grant(storage_contract.make_grant())
    assert kube.list("secrets", "team-a") == []  # nothing lands in the App's namespace
    (secret,) = kube.list("secrets", NAMESPACE, "strongroom.dev/record=grant")
    meta = secret["metadata"]
    assert meta["name"] == secrets.grant_secret_name("team-a", "g1")
    assert meta["annotations"][secrets.VERSION] == "1"
    assert (meta["annotations"][secrets.NAMESPACE], meta["annotations"][secrets.NAME]) == (
        "team-a",
        "g1",
    )
    assert meta["labels"][secrets.APP_KEY] == secrets.app_key("team-a", "shop")
    assert secret["type"] == "strongroom.dev/grant-record"
    stored = json.loads(base64.b64decode(secret["data"]["record"]))
    assert stored["sealed"] == record.sealed


async def test_long_names_fit_secret_names_and_label_values(
    kubestorage: storage.KubernetesStorage,
) -> None:
    long_app, long_name = "a" * 200, "g" * 250
    created = await kubestorage.create_grant(storage_contract.make_grant(long_name, app=long_app))
    assert await kubestorage.list_grants("team-a", long_app) == [created]
    await kubestorage.put_document("team-a", long_app, "Odd Name!", {"x": 1}, None)
    assert await kubestorage.list_documents("Odd Name!") == [("team-a", long_app)]


async def test_a_watch_from_zero_yields_the_current_state_then_live_changes(
    kubestorage: storage.KubernetesStorage,
) -> None:
    created = await kubestorage.create_grant(storage_contract.make_grant("a"))
    await kubestorage.create_grant(storage_contract.make_grant("gone"))
    await kubestorage.delete_grant("team-a", "gone")
    await kubestorage.put_document("team-a", "shop", "policy", {"digest": "1"}, None)
    changes = kubestorage.watch("team-a", "shop", 0)
    snapshot = await storage_contract.collect(changes, 2)
    assert [(c.kind, c.name) for c in snapshot] == [("grant", "a"), ("policy", "policy")]
    assert snapshot[0].grant == created
    assert snapshot[0].revision < snapshot[1].revision
    live = asyncio.create_task(storage_contract.collect(kubestorage.watch("team-a", "shop", 0), 3))
    await kubestorage.replace_grant(dataclasses.replace(created, sealed="new"), 1)
    seen = await live
    assert seen[2].grant is not None
    assert seen[2].grant.sealed == "new"


async def reopened_from(kube: emulator.KubeEmulator, revision: int) -> None:
    def reopened() -> bool:
        for _, path in kube.requests:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
            if "watch" in query and int(query.get("resourceVersion", ["0"])[0]) >= revision:
                return True
        return False

    while not reopened():
        await asyncio.sleep(0.05)


class RacingClient(client.KubeClient):
    """The real client, plus another writer that changes the Secret's labels between the
    storage's read and its write, once."""

    def __init__(self, kube: emulator.KubeEmulator) -> None:
        super().__init__(conftest.cluster_of(kube))
        self.kube = kube
        self.raced = False

    async def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer = await super().request(method, path, **kwargs)
        if method == "GET" and "/secrets/sr-grant-" in path and not self.raced:
            self.raced = True
            name = path.rsplit("/", 1)[1]
            self.kube.patch("secrets", name, {"metadata": {"labels": {"x": "y"}}}, NAMESPACE)
        return answer


async def test_a_write_that_races_a_foreign_edit_is_retried_not_refused(
    kube: emulator.KubeEmulator,
) -> None:
    async with storage.KubernetesStorage(RacingClient(kube), NAMESPACE) as racing:
        racing.kube.raced = True  # type: ignore[attr-defined]
        created = await racing.create_grant(storage_contract.make_grant())
        racing.kube.raced = False  # type: ignore[attr-defined]
        replaced = await racing.replace_grant(dataclasses.replace(created, sealed="new"), 1)
        assert replaced.version == 2
        assert racing.kube.raced  # type: ignore[attr-defined]
        racing.kube.raced = False  # type: ignore[attr-defined]
        await racing.delete_grant("team-a", "g1", expected_version=2)
        assert await racing.get_grant("team-a", "g1") is None


async def test_without_an_audit_store_audit_calls_say_what_to_pass(
    kube: emulator.KubeEmulator,
) -> None:
    kube_client = client.KubeClient(conftest.cluster_of(kube))
    async with storage.KubernetesStorage(kube_client, NAMESPACE) as bare:
        with pytest.raises(errors.StorageError, match="audit="):
            await bare.append_audit([{"id": "e1"}])
        with pytest.raises(errors.StorageError, match="audit="):
            await bare.query_audit(records.AuditQuery())


async def test_a_quiet_apps_watch_survives_compaction_through_bookmarks(
    kube: emulator.KubeEmulator,
) -> None:
    kube_client = client.KubeClient(conftest.cluster_of(kube))
    async with storage.KubernetesStorage(kube_client, NAMESPACE, watch_timeout=1) as store:
        quiet = await store.create_grant(storage_contract.make_grant("quiet", app="quiet"))
        since = await store.current_revision()
        watcher = asyncio.create_task(
            storage_contract.collect(store.watch("team-a", "quiet", since), 1)
        )
        await storage_contract.write_many(store, "busy", 20)
        target = await store.current_revision()
        # A bookmark moves the quiet watch's cursor past the busy writes; it shows when the
        # watch, timed out, reopens from there.
        await asyncio.wait_for(reopened_from(kube, target), 20)
        kube.compact()
        await store.replace_grant(dataclasses.replace(quiet, sealed="new"), 1)
        (change,) = await watcher
        assert change.grant is not None
        assert change.grant.sealed == "new"
