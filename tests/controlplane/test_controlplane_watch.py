"""The watch stream over HTTP: snapshot, SYNCED, live changes in order, resume, heartbeat."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator

import pytest

from strongroom_core import protocol
from strongroom_core.storage import sqlite
from tests.controlplane import harness as h


@contextlib.asynccontextmanager
async def watching(
    harness: h.Harness, query: str = "", headers: dict[str, str] = h.SIDECAR
) -> AsyncIterator[h.WatchStream]:
    async with harness.client.get(
        f"{harness.url}/v1/apps/team-a/shop/watch{query}", headers=headers
    ) as response:
        assert response.status == 200
        assert response.content_type == "application/x-ndjson"
        yield h.WatchStream(response)


async def write_many(harness: h.Harness, name: str, count: int) -> None:
    record = await harness.storage.create_grant(h.make_grant(name))
    for n in range(1, count):
        record = await harness.storage.replace_grant(
            dataclasses.replace(record, sealed=f"blob-{n}", generation=n + 1), record.version
        )


async def test_a_fresh_watch_sends_policy_and_every_grant_then_synced(
    harness: h.Harness,
) -> None:
    await harness.storage.put_document("team-a", "shop", "policy", {"digest": "p1"}, None)
    first = await harness.storage.create_grant(h.make_grant("a"))
    second = await harness.storage.create_grant(h.make_grant("b"))
    await harness.storage.create_grant(h.make_grant("other", app="blog"))
    revision = await harness.storage.current_revision()
    async with watching(harness) as stream:
        events = await stream.take(4)
    assert events == [
        {"type": "POLICY", "revision": revision, "policy": {"digest": "p1"}},
        {"type": "GRANT", "revision": revision, "grant": protocol.grant_to_wire(first)},
        {"type": "GRANT", "revision": revision, "grant": protocol.grant_to_wire(second)},
        {"type": "SYNCED", "revision": revision},
    ]


async def test_live_changes_of_concurrent_writers_arrive_all_and_in_order(
    harness: h.Harness,
) -> None:
    async with watching(harness) as stream:
        synced = await stream.next()
        assert synced == {"type": "SYNCED", "revision": 1}  # the App's keys document
        await asyncio.gather(*(write_many(harness, f"w{i}", 100) for i in range(3)))
        events = await stream.take(300)
    revisions = [e["revision"] for e in events]
    assert revisions == list(range(2, 302))
    for writer in ("w0", "w1", "w2"):
        versions = [e["grant"]["version"] for e in events if e["grant"]["name"] == writer]
        assert versions == list(range(1, 101))


async def test_deletions_policy_and_key_changes_are_streamed_without_key_material(
    harness: h.Harness,
) -> None:
    async with watching(harness) as stream:
        await stream.next()
        await harness.storage.create_grant(h.make_grant())
        await harness.storage.delete_grant("team-a", "g1")
        await harness.storage.put_document("team-a", "shop", "policy", {"digest": "p2"}, None)
        keys_document = await harness.storage.get_document("team-a", "shop", "keys")
        assert keys_document is not None
        await harness.storage.put_document(
            "team-a", "shop", "keys", keys_document.body, keys_document.version
        )
        events = await stream.take(4)
    assert [e["type"] for e in events] == ["GRANT", "GRANT_DELETED", "POLICY", "KEYS"]
    assert events[1] == {"type": "GRANT_DELETED", "revision": events[1]["revision"], "name": "g1"}
    assert events[2]["policy"] == {"digest": "p2"}
    assert events[3] == {"type": "KEYS", "revision": events[3]["revision"], "name": "keys"}


async def test_a_resumed_watch_sends_exactly_the_changes_after_its_revision(
    harness: h.Harness,
) -> None:
    await write_many(harness, "g1", 5)
    async with watching(harness, "?since=3") as stream:
        events = await stream.take(3)
        assert [(e["type"], e["revision"], e["grant"]["version"]) for e in events] == [
            ("GRANT", 4, 3),
            ("GRANT", 5, 4),
            ("GRANT", 6, 5),
        ]
        await write_many(harness, "g2", 1)
        live = await stream.next_skipping_heartbeats()
    assert (live["revision"], live["grant"]["name"]) == (7, "g2")


async def test_a_quiet_stream_sends_heartbeats_with_the_last_revision(
    harness: h.Harness,
) -> None:
    async with watching(harness) as stream:
        synced = await stream.next()
        heartbeat = await stream.next()
    assert heartbeat == {"type": "HEARTBEAT", "revision": synced["revision"]}


async def test_a_revision_from_the_future_is_gone(harness: h.Harness) -> None:
    async with harness.client.get(
        f"{harness.url}/v1/apps/team-a/shop/watch?since=999", headers=h.SIDECAR
    ) as response:
        assert response.status == 410
        problem = await h.problem_of(response)
    assert problem["code"] == "revision_gone"
    assert "since=0" in problem["detail"]


@pytest.mark.parametrize("since", ["-1", "abc", "1.5"])
async def test_a_bad_since_is_refused_naming_it(harness: h.Harness, since: str) -> None:
    async with harness.client.get(
        f"{harness.url}/v1/apps/team-a/shop/watch?since={since}", headers=h.SIDECAR
    ) as response:
        assert response.status == 400
        assert (await h.problem_of(response))["detail"].startswith("since:")


async def test_another_apps_sidecar_may_not_watch(harness: h.Harness) -> None:
    async with harness.client.get(
        f"{harness.url}/v1/apps/team-a/shop/watch", headers=h.OTHER_SIDECAR
    ) as response:
        assert response.status == 403


async def test_watch_needs_a_token(harness: h.Harness) -> None:
    async with harness.client.get(f"{harness.url}/v1/apps/team-a/shop/watch") as response:
        assert response.status == 401


async def test_stopping_the_server_ends_open_streams(harness: h.Harness) -> None:
    async with watching(harness) as stream:
        await stream.next()
        await asyncio.wait_for(harness.runner.cleanup(), 10)
        rest = await asyncio.wait_for(stream.response.content.read(), 10)
    assert b"SYNCED" not in rest


async def test_changes_written_by_another_process_reach_the_stream(harness: h.Harness) -> None:
    """The operator (reconcile) may write the same SQLite file from another process."""
    async with watching(harness) as stream:
        await stream.next()
        async with sqlite.SqliteStorage(harness.storage.path) as other_process:
            created = await other_process.create_grant(h.make_grant("from-operator"))
        event = await stream.next_skipping_heartbeats()
    assert event["grant"] == protocol.grant_to_wire(created)
