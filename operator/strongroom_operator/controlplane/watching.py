"""The App watch stream's content: the snapshot, and changes as ``protocol.WatchEvent``.

Snapshot consistency: the grants and the policy are read between two reads of the store's
revision; when both reads agree nothing was written in between, so the snapshot is exactly the
state at that revision and the stream resumes right after it. Under a constant stream of writes
(every attempt raced) the snapshot is sent with the first revision read and the changes after
it are replayed: a few events may repeat state the snapshot already had, and applying events in
order still ends in the right state.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol, runtime_checkable

from strongroom_core import protocol
from strongroom_core.storage import ports, records

POLICY_DOCUMENT = "policy"


@runtime_checkable
class RevisionChecker(Protocol):
    """A storage that can tell before streaming whether a resume point is still in its log
    (``SqliteStorage`` can); others answer a gone revision by ending the stream."""

    async def check_revision(self, since: int) -> None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Snapshot:
    grants: list[records.GrantRecord]
    policy: records.StoredDocument | None
    revision: int


async def take_snapshot(
    storage: ports.Storage, namespace: str, app: str, attempts: int
) -> Snapshot:
    snapshot: Snapshot | None = None
    for _ in range(max(1, attempts)):
        before = await storage.current_revision()
        grants = await storage.list_grants(namespace, app)
        policy = await storage.get_document(namespace, app, POLICY_DOCUMENT)
        after = await storage.current_revision()
        if snapshot is None:
            snapshot = Snapshot(grants, policy, before)
        if before == after:
            return Snapshot(grants, policy, after)
    assert snapshot is not None
    return snapshot


def snapshot_events(snapshot: Snapshot) -> list[protocol.WatchEvent]:
    events: list[protocol.WatchEvent] = []
    if snapshot.policy is not None:
        events.append(
            {"type": "POLICY", "revision": snapshot.revision, "policy": snapshot.policy.body}
        )
    for grant in snapshot.grants:
        events.append(
            {"type": "GRANT", "revision": snapshot.revision, "grant": protocol.grant_to_wire(grant)}
        )
    events.append({"type": "SYNCED", "revision": snapshot.revision})
    return events


def change_event(change: records.Change) -> protocol.WatchEvent:
    """A change as the event a sidecar applies. ``KEYS`` carries no key material: it tells the
    sidecar to fetch ``/keys`` again."""
    if change.kind == "grant":
        if change.grant is None:
            return {"type": "GRANT_DELETED", "revision": change.revision, "name": change.name}
        return {
            "type": "GRANT",
            "revision": change.revision,
            "grant": protocol.grant_to_wire(change.grant),
        }
    if change.kind == "policy":
        body = change.document.body if change.document is not None else {}
        return {"type": "POLICY", "revision": change.revision, "policy": body}
    return {"type": "KEYS", "revision": change.revision, "name": change.name}


def heartbeat(revision: int) -> protocol.WatchEvent:
    return {"type": "HEARTBEAT", "revision": revision}
