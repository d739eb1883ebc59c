"""The behaviour every ``ports.Storage`` implementation owes its callers, as one test class.

A test module subclasses :class:`StorageContract` and provides a ``backend`` fixture (a
:class:`Backend`): tests/kubestore/test_contract.py runs it over SQLite and over the Kubernetes
storage against the emulator. Cases are written against the port only: a watch starts from a
revision taken with ``current_revision()`` (what a resuming client does), since "from 0" means
"replay history" to SQLite and "current state" to Kubernetes, which keeps no history.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from strongroom_core.storage import errors, ports, records


@dataclasses.dataclass
class Backend:
    storage: ports.Storage
    forget_history: Callable[[], Awaitable[None]]
    """Make every revision up to now unreplayable (prune the log / compact etcd)."""
    writers_changes: int = 60
    """Changes per writer in the concurrency cases (kept small where each write is HTTP)."""


def make_grant(
    name: str = "g1", app: str = "shop", namespace: str = "team-a"
) -> records.GrantRecord:
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
        token_expires_at=1_900_000_000.5,
    )


async def collect(changes: AsyncIterator[records.Change], count: int) -> list[records.Change]:
    """The next ``count`` changes; fails (rather than hangs) if they do not come."""

    async def take() -> list[records.Change]:
        taken: list[records.Change] = []
        async with contextlib.aclosing(changes):  # type: ignore[type-var]
            async for change in changes:
                taken.append(change)
                if len(taken) == count:
                    break
        return taken

    return await asyncio.wait_for(take(), timeout=30)


async def write_many(storage: ports.Storage, writer: str, count: int) -> None:
    """One create then ``count - 1`` compare-and-swap replaces of the writer's own grant."""
    record = await storage.create_grant(make_grant(f"{writer}-grant"))
    for n in range(1, count):
        record = await storage.replace_grant(
            dataclasses.replace(record, sealed=f"blob-{n}"), record.version
        )


class StorageContract:
    """Subclass with a ``backend`` fixture."""

    # --- grants -------------------------------------------------------------------------

    async def test_created_grant_gets_version_one_and_reads_back_equal(
        self, backend: Backend
    ) -> None:
        storage = backend.storage
        created = await storage.create_grant(make_grant())
        assert created.version == 1
        assert created == dataclasses.replace(make_grant(), version=1)
        assert await storage.get_grant("team-a", "g1") == created
        assert await storage.list_grants("team-a", "shop") == [created]
        assert await storage.get_grant("team-a", "absent") is None

    async def test_creating_a_grant_twice_fails_naming_it(self, backend: Backend) -> None:
        await backend.storage.create_grant(make_grant())
        with pytest.raises(errors.AlreadyExistsError, match="team-a/g1"):
            await backend.storage.create_grant(make_grant())

    async def test_replace_with_the_current_version_bumps_the_version(
        self, backend: Backend
    ) -> None:
        storage = backend.storage
        created = await storage.create_grant(make_grant())
        replaced = await storage.replace_grant(
            dataclasses.replace(created, sealed="sr1.kid.n2.c2", generation=2), 1
        )
        assert replaced.version == 2
        assert await storage.get_grant("team-a", "g1") == replaced

    async def test_replace_with_a_stale_version_fails_and_keeps_the_winner(
        self, backend: Backend
    ) -> None:
        storage = backend.storage
        created = await storage.create_grant(make_grant())
        winner = await storage.replace_grant(dataclasses.replace(created, sealed="winner"), 1)
        with pytest.raises(errors.ConflictError) as caught:
            await storage.replace_grant(dataclasses.replace(created, sealed="loser"), 1)
        assert (caught.value.expected, caught.value.actual) == (1, 2)
        assert await storage.get_grant("team-a", "g1") == winner

    async def test_concurrent_compare_and_swap_has_exactly_one_winner(
        self, backend: Backend
    ) -> None:
        storage = backend.storage
        created = await storage.create_grant(make_grant())

        async def claim(holder: str) -> str | None:
            try:
                await storage.replace_grant(
                    dataclasses.replace(created, claim_holder=holder), created.version
                )
            except errors.ConflictError:
                return None
            return holder

        winners = [w for w in await asyncio.gather(*(claim(f"pod-{i}") for i in range(8))) if w]
        assert len(winners) == 1
        stored = await storage.get_grant("team-a", "g1")
        assert stored is not None
        assert (stored.claim_holder, stored.version) == (winners[0], 2)

    async def test_replace_of_an_absent_grant_is_not_found(self, backend: Backend) -> None:
        with pytest.raises(errors.NotFoundError):
            await backend.storage.replace_grant(make_grant(), 1)

    async def test_delete_with_a_stale_version_fails_and_an_absent_grant_is_not_found(
        self, backend: Backend
    ) -> None:
        storage = backend.storage
        await storage.create_grant(make_grant())
        with pytest.raises(errors.ConflictError):
            await storage.delete_grant("team-a", "g1", expected_version=7)
        await storage.delete_grant("team-a", "g1", expected_version=1)
        assert await storage.get_grant("team-a", "g1") is None
        with pytest.raises(errors.NotFoundError):
            await storage.delete_grant("team-a", "g1")

    async def test_grants_are_listed_per_namespace_and_app(self, backend: Backend) -> None:
        storage = backend.storage
        await storage.create_grant(make_grant("b", app="shop"))
        await storage.create_grant(make_grant("a", app="shop"))
        await storage.create_grant(make_grant("c", app="blog"))
        await storage.create_grant(make_grant("d", app="shop", namespace="team-b"))
        assert [g.name for g in await storage.list_grants("team-a", "shop")] == ["a", "b"]

    # --- documents ----------------------------------------------------------------------

    async def test_document_create_then_compare_and_swap(self, backend: Backend) -> None:
        storage = backend.storage
        first = await storage.put_document("team-a", "shop", "policy", {"digest": "1"}, None)
        assert first == records.StoredDocument({"digest": "1"}, 1)
        with pytest.raises(errors.AlreadyExistsError):
            await storage.put_document("team-a", "shop", "policy", {"digest": "x"}, None)
        second = await storage.put_document("team-a", "shop", "policy", {"digest": "2"}, 1)
        assert second.version == 2
        with pytest.raises(errors.ConflictError):
            await storage.put_document("team-a", "shop", "policy", {"digest": "3"}, 1)
        with pytest.raises(errors.NotFoundError):
            await storage.put_document("team-a", "shop", "keys", {}, 1)
        assert await storage.get_document("team-a", "shop", "policy") == second
        assert await storage.get_document("team-a", "blog", "policy") is None

    async def test_global_documents_live_under_empty_namespace_and_app(
        self, backend: Backend
    ) -> None:
        storage = backend.storage
        await storage.put_document("", "", "root-keys", {"keys": []}, None)
        stored = await storage.get_document("", "", "root-keys")
        assert stored == records.StoredDocument({"keys": []}, 1)

    async def test_list_documents_names_every_app_holding_one_but_no_global(
        self, backend: Backend
    ) -> None:
        storage = backend.storage
        await storage.put_document("team-b", "blog", "keys", {}, None)
        await storage.put_document("team-a", "shop", "keys", {}, None)
        await storage.put_document("team-a", "shop", "policy", {}, None)
        await storage.put_document("", "", "keys", {}, None)
        assert await storage.list_documents("keys") == [("team-a", "shop"), ("team-b", "blog")]

    # --- changes ------------------------------------------------------------------------

    async def test_watch_sees_every_change_of_concurrent_writers_in_order(
        self, backend: Backend
    ) -> None:
        storage, count = backend.storage, backend.writers_changes
        since = await storage.current_revision()
        watcher = asyncio.create_task(collect(storage.watch("team-a", "shop", since), 3 * count))
        await asyncio.sleep(0.05)  # let the watch start: it must not need to, but try it live
        await asyncio.gather(*(write_many(storage, f"w{i}", count) for i in range(3)))
        seen = await watcher
        revisions = [c.revision for c in seen]
        assert revisions == sorted(set(revisions))
        assert revisions[0] > since
        assert revisions[-1] <= await storage.current_revision()
        for writer in ("w0", "w1", "w2"):
            versions = [c.grant.version for c in seen if c.grant and c.name == f"{writer}-grant"]
            assert versions == list(range(1, count + 1))

    async def test_watch_resumed_from_a_revision_gets_exactly_the_rest(
        self, backend: Backend
    ) -> None:
        storage, count = backend.storage, backend.writers_changes
        start = await storage.current_revision()
        writers = asyncio.gather(*(write_many(storage, f"w{i}", count) for i in range(3)))
        first_part = await collect(storage.watch("team-a", "shop", start), count)
        resume_at = first_part[-1].revision
        rest = asyncio.create_task(collect(storage.watch("team-a", "shop", resume_at), 2 * count))
        await writers
        everything = await collect(storage.watch("team-a", "shop", start), 3 * count)
        assert first_part + await rest == everything

    async def test_watch_carries_deletions_and_app_documents_but_not_global_ones(
        self, backend: Backend
    ) -> None:
        storage = backend.storage
        since = await storage.current_revision()
        created = await storage.create_grant(make_grant())
        await storage.put_document("team-a", "shop", "policy", {"digest": "p1"}, None)
        await storage.put_document("", "", "root-keys", {"keys": []}, None)
        await storage.put_document("team-a", "shop", "keys", {"keys": []}, None)
        await storage.create_grant(make_grant("other-app", app="blog"))
        await storage.delete_grant("team-a", "g1")
        seen = await collect(storage.watch("team-a", "shop", since), 4)
        assert [(c.kind, c.name, c.namespace, c.app) for c in seen] == [
            ("grant", "g1", "team-a", "shop"),
            ("policy", "policy", "team-a", "shop"),
            ("keys", "keys", "team-a", "shop"),
            ("grant", "g1", "team-a", "shop"),
        ]
        assert seen[0].grant == created
        assert seen[1].document == records.StoredDocument({"digest": "p1"}, 1)
        assert (seen[3].grant, seen[3].document) == (None, None)

    async def test_a_grant_moved_to_another_app_leaves_the_old_apps_stream(
        self, backend: Backend
    ) -> None:
        storage = backend.storage
        since = await storage.current_revision()
        created = await storage.create_grant(make_grant())
        await storage.replace_grant(dataclasses.replace(created, app="blog"), 1)
        old_stream = await collect(storage.watch("team-a", "shop", since), 2)
        assert old_stream[1].grant is None
        new_stream = await collect(storage.watch("team-a", "blog", since), 1)
        assert new_stream[0].grant is not None
        assert new_stream[0].grant.app == "blog"

    async def test_a_forgotten_revision_is_gone(self, backend: Backend) -> None:
        storage = backend.storage
        await storage.create_grant(make_grant("early"))
        since = await storage.current_revision()
        await storage.check_revision(since)
        await write_many(storage, "before", 5)
        await backend.forget_history()
        await write_many(storage, "after", 30)
        with pytest.raises(errors.RevisionGoneError, match="since=0"):
            await storage.check_revision(since)
        with pytest.raises(errors.RevisionGoneError):
            await collect(storage.watch("team-a", "shop", since), 1)
        newest = await storage.current_revision()
        await storage.check_revision(newest)
        later = asyncio.create_task(collect(storage.watch("team-a", "shop", newest), 1))
        await storage.create_grant(make_grant("late"))
        assert [c.name for c in await later] == ["late"]

    async def test_a_revision_from_the_future_is_gone(self, backend: Backend) -> None:
        await backend.storage.create_grant(make_grant())
        future = await backend.storage.current_revision() + 1000
        with pytest.raises(errors.RevisionGoneError):
            await backend.storage.check_revision(future)

    async def test_closing_the_storage_ends_its_watchers(self, backend: Backend) -> None:
        storage = backend.storage
        since = await storage.current_revision()

        async def drain() -> list[Any]:
            return [c async for c in storage.watch("team-a", "shop", since)]

        watcher = asyncio.create_task(drain())
        await asyncio.sleep(0.1)
        await storage.close()
        assert await asyncio.wait_for(watcher, 5) == []

    # --- audit --------------------------------------------------------------------------

    async def test_audit_events_are_stored_once_and_queried_newest_first(
        self, backend: Backend
    ) -> None:
        storage = backend.storage

        def event(event_id: str, time: float) -> dict[str, Any]:
            return {
                "id": event_id,
                "time": time,
                "kind": "use",
                "namespace": "team-a",
                "app": "shop",
                "grant": "g1",
            }

        assert await storage.append_audit([event("e1", 1.0), event("e2", 2.0)]) == 2
        assert await storage.append_audit([event("e1", 1.0), event("e3", 3.0)]) == 1
        stored = await storage.query_audit(records.AuditQuery())
        assert [e["id"] for e in stored] == ["e3", "e2", "e1"]
