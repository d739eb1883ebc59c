"""The change log and watch: every change, in order, never lost, across processes' writers."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from strongroom_core.storage import errors, records, sqlite

GrantMaker = Callable[..., records.GrantRecord]


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


async def write_many(
    storage: sqlite.SqliteStorage, grant: GrantMaker, writer: str, count: int
) -> None:
    """One create then ``count - 1`` compare-and-swap replaces of the writer's own grant."""
    record = await storage.create_grant(grant(f"{writer}-grant"))
    for n in range(1, count):
        record = await storage.replace_grant(
            dataclasses.replace(record, sealed=f"blob-{n}"), record.version
        )


async def test_watch_sees_every_change_of_concurrent_writers_in_order(
    storage: sqlite.SqliteStorage, grant: GrantMaker
) -> None:
    watcher = asyncio.create_task(collect(storage.watch("team-a", "shop"), 600))
    await asyncio.gather(*(write_many(storage, grant, f"w{i}", 200) for i in range(3)))
    seen = await watcher
    revisions = [c.revision for c in seen]
    assert revisions == sorted(set(revisions))
    assert revisions[-1] == await storage.current_revision()
    for writer in ("w0", "w1", "w2"):
        versions = [c.grant.version for c in seen if c.grant and c.name == f"{writer}-grant"]
        assert versions == list(range(1, 201))


async def test_watch_started_mid_stream_misses_nothing(
    storage: sqlite.SqliteStorage, grant: GrantMaker
) -> None:
    writers = asyncio.gather(*(write_many(storage, grant, f"w{i}", 200) for i in range(3)))
    while await storage.current_revision() < 100:
        await asyncio.sleep(0.001)
    since = await storage.current_revision()
    late_watch = asyncio.create_task(collect(storage.watch("team-a", "shop", since), 600 - since))
    await writers
    late = await late_watch
    everything = await collect(storage.watch("team-a", "shop", 0), 600)
    assert late == [c for c in everything if c.revision > since]


async def test_two_storages_on_one_file_see_each_others_changes(
    db_path: Path, grant: GrantMaker
) -> None:
    async with (
        sqlite.SqliteStorage(db_path, poll_interval=0.02) as first,
        sqlite.SqliteStorage(db_path, poll_interval=0.02) as second,
    ):
        watch_second = asyncio.create_task(collect(second.watch("team-a", "shop"), 100))
        watch_first = asyncio.create_task(collect(first.watch("team-a", "shop"), 100))
        await asyncio.gather(
            write_many(first, grant, "from-first", 50), write_many(second, grant, "from-second", 50)
        )
        seen_by_second, seen_by_first = await watch_second, await watch_first
        assert seen_by_first == seen_by_second
        assert [c.revision for c in seen_by_first] == list(range(1, 101))
        assert {c.name for c in seen_by_first} == {"from-first-grant", "from-second-grant"}


async def test_watch_carries_deletions_and_app_documents_but_not_global_ones(
    storage: sqlite.SqliteStorage, grant: GrantMaker
) -> None:
    created = await storage.create_grant(grant())
    await storage.put_document("team-a", "shop", "policy", {"digest": "p1"}, None)
    await storage.put_document("", "", "root-keys", {"keys": []}, None)
    await storage.put_document("team-a", "shop", "keys", {"keys": []}, None)
    await storage.create_grant(grant("other-app", app="blog"))
    await storage.delete_grant("team-a", "g1")
    seen = await collect(storage.watch("team-a", "shop"), 4)
    assert [(c.kind, c.name) for c in seen] == [
        ("grant", "g1"),
        ("policy", "policy"),
        ("keys", "keys"),
        ("grant", "g1"),
    ]
    assert seen[0].grant == created
    assert seen[1].document == records.StoredDocument({"digest": "p1"}, 1)
    assert seen[3].grant is None
    assert seen[3].document is None


async def test_a_grant_moved_to_another_app_leaves_the_old_apps_stream(
    storage: sqlite.SqliteStorage, grant: GrantMaker
) -> None:
    created = await storage.create_grant(grant())
    await storage.replace_grant(dataclasses.replace(created, app="blog"), 1)
    old_stream = await collect(storage.watch("team-a", "shop"), 2)
    assert old_stream[1].grant is None
    new_stream = await collect(storage.watch("team-a", "blog"), 1)
    assert new_stream[0].grant is not None
    assert new_stream[0].grant.app == "blog"


async def test_a_pruned_revision_is_gone(db_path: Path, grant: GrantMaker) -> None:
    async with sqlite.SqliteStorage(db_path, max_changes=10) as storage:
        await write_many(storage, grant, "w", 30)
        with pytest.raises(errors.RevisionGoneError, match="since=0"):
            await collect(storage.watch("team-a", "shop", 1), 1)
        with pytest.raises(errors.RevisionGoneError):
            await storage.check_revision(1)
        newest = await storage.current_revision()
        await storage.check_revision(newest - 5)
        kept = await collect(storage.watch("team-a", "shop", newest - 5), 5)
        assert [c.revision for c in kept] == list(range(newest - 4, newest + 1))


async def test_a_revision_from_the_future_is_gone(
    storage: sqlite.SqliteStorage, grant: GrantMaker
) -> None:
    await storage.create_grant(grant())
    with pytest.raises(errors.RevisionGoneError):
        await storage.check_revision(99)
    with pytest.raises(errors.RevisionGoneError):
        await collect(storage.watch("team-a", "shop", 99), 1)


async def test_a_quiet_apps_watcher_is_not_left_behind_by_pruning(
    db_path: Path, grant: GrantMaker
) -> None:
    async with sqlite.SqliteStorage(db_path, max_changes=10, poll_interval=0.02) as storage:
        created = await storage.create_grant(grant("quiet", app="quiet"))
        quiet = asyncio.create_task(collect(storage.watch("team-a", "quiet", 1), 1))
        await write_many(storage, grant, "busy", 50)  # prunes revision 1 long before the end
        await storage.replace_grant(dataclasses.replace(created, sealed="new"), 1)
        change = (await quiet)[0]
        assert change.grant is not None
        assert change.grant.sealed == "new"


async def test_closing_the_storage_ends_its_watchers(db_path: Path) -> None:
    storage = sqlite.SqliteStorage(db_path, poll_interval=0.02)
    await storage.open()

    async def drain() -> list[records.Change]:
        return [c async for c in storage.watch("team-a", "shop")]

    watcher = asyncio.create_task(drain())
    await asyncio.sleep(0.05)
    await storage.close()
    assert await asyncio.wait_for(watcher, 5) == []
