"""A watcher that fell behind a pruned change log is told to resynchronise (410)."""

from __future__ import annotations

import dataclasses

import pytest

from tests.controlplane import harness as h


@pytest.fixture
def max_changes() -> int:
    return 10


async def test_a_pruned_revision_is_gone_and_a_fresh_watch_resyncs(harness: h.Harness) -> None:
    record = await harness.storage.create_grant(h.make_grant())
    for n in range(30):
        record = await harness.storage.replace_grant(
            dataclasses.replace(record, sealed=f"blob-{n}"), record.version
        )
    async with harness.client.get(
        f"{harness.url}/v1/apps/team-a/shop/watch?since=2", headers=h.SIDECAR
    ) as response:
        assert response.status == 410
        assert (await h.problem_of(response))["code"] == "revision_gone"
    async with harness.client.get(
        f"{harness.url}/v1/apps/team-a/shop/watch?since=0", headers=h.SIDECAR
    ) as response:
        assert response.status == 200
        stream = h.WatchStream(response)
        grant_event, synced = await stream.take(2)
    assert grant_event["grant"]["version"] == record.version
    assert synced == {"type": "SYNCED", "revision": await harness.storage.current_revision()}
