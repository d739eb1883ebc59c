"""Grants and documents: compare-and-swap through the version column."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from strongroom_core.storage import errors, records, sqlite

GrantMaker = Callable[..., records.GrantRecord]


async def test_created_grant_gets_version_one_and_reads_back_equal(
    storage: sqlite.SqliteStorage,
    grant: GrantMaker,
) -> None:
    created = await storage.create_grant(grant())
    assert created.version == 1
    assert await storage.get_grant("team-a", "g1") == created
    assert await storage.list_grants("team-a", "shop") == [created]


async def test_creating_a_grant_twice_fails(
    storage: sqlite.SqliteStorage, grant: GrantMaker
) -> None:
    await storage.create_grant(grant())
    with pytest.raises(errors.AlreadyExistsError, match="team-a/g1"):
        await storage.create_grant(grant())


async def test_replace_with_the_current_version_bumps_the_version(
    storage: sqlite.SqliteStorage,
    grant: GrantMaker,
) -> None:
    created = await storage.create_grant(grant())
    replaced = await storage.replace_grant(
        dataclasses.replace(created, sealed="sr1.kid.n2.c2", generation=2), 1
    )
    assert replaced.version == 2
    assert (await storage.get_grant("team-a", "g1")) == replaced


async def test_replace_with_a_stale_version_fails_and_keeps_the_stored_record(
    storage: sqlite.SqliteStorage,
    grant: GrantMaker,
) -> None:
    created = await storage.create_grant(grant())
    winner = await storage.replace_grant(dataclasses.replace(created, sealed="winner"), 1)
    with pytest.raises(errors.ConflictError) as caught:
        await storage.replace_grant(dataclasses.replace(created, sealed="loser"), 1)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert await storage.get_grant("team-a", "g1") == winner


async def test_replace_of_an_absent_grant_is_not_found(
    storage: sqlite.SqliteStorage, grant: GrantMaker
) -> None:
    with pytest.raises(errors.NotFoundError):
        await storage.replace_grant(grant(), 1)


async def test_delete_with_a_stale_version_fails_and_an_absent_grant_is_not_found(
    storage: sqlite.SqliteStorage,
    grant: GrantMaker,
) -> None:
    await storage.create_grant(grant())
    with pytest.raises(errors.ConflictError):
        await storage.delete_grant("team-a", "g1", expected_version=7)
    await storage.delete_grant("team-a", "g1", expected_version=1)
    assert await storage.get_grant("team-a", "g1") is None
    with pytest.raises(errors.NotFoundError):
        await storage.delete_grant("team-a", "g1")


async def test_grants_are_listed_per_app(storage: sqlite.SqliteStorage, grant: GrantMaker) -> None:
    await storage.create_grant(grant("a", app="shop"))
    await storage.create_grant(grant("b", app="blog"))
    await storage.create_grant(grant("c", app="shop", namespace="team-b"))
    assert [g.name for g in await storage.list_grants("team-a", "shop")] == ["a"]


async def test_document_create_then_compare_and_swap(
    storage: sqlite.SqliteStorage, grant: GrantMaker
) -> None:
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
    storage: sqlite.SqliteStorage,
    grant: GrantMaker,
) -> None:
    await storage.put_document("", "", "root-keys", {"keys": []}, None)
    assert (await storage.get_document("", "", "root-keys")) == records.StoredDocument(
        {"keys": []}, 1
    )


async def test_data_survives_reopening_the_file(db_path: Path, grant: GrantMaker) -> None:
    async with sqlite.SqliteStorage(db_path) as first:
        created = await first.create_grant(grant())
    async with sqlite.SqliteStorage(db_path) as second:
        assert await second.get_grant("team-a", "g1") == created


async def test_using_storage_before_open_says_to_open_it(db_path: Path) -> None:
    with pytest.raises(errors.StorageError, match="open"):
        await sqlite.SqliteStorage(db_path).get_grant("team-a", "g1")


async def test_repr_shows_the_path_only(db_path: Path) -> None:
    assert repr(sqlite.SqliteStorage(db_path)) == f"SqliteStorage({str(db_path)!r})"


async def test_list_documents_names_every_app_holding_one_but_no_global(
    storage: sqlite.SqliteStorage, grant: GrantMaker
) -> None:
    await storage.put_document("team-b", "blog", "keys", {}, None)
    await storage.put_document("team-a", "shop", "keys", {}, None)
    await storage.put_document("team-a", "shop", "policy", {}, None)
    await storage.put_document("", "", "keys", {}, None)
    assert await storage.list_documents("keys") == [("team-a", "shop"), ("team-b", "blog")]
