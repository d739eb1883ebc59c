"""Audit events: idempotent by id, queried newest first."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom_core.storage import records, sqlite


def event(event_id: str, time: float, app: str = "shop", grant: str = "g1") -> dict[str, Any]:
    return {
        "id": event_id,
        "time": time,
        "kind": "use",
        "namespace": "team-a",
        "app": app,
        "grant": grant,
        "status": 200,
    }


async def test_a_duplicate_event_is_stored_once(storage: sqlite.SqliteStorage) -> None:
    assert await storage.append_audit([event("e1", 1.0), event("e2", 2.0)]) == 2
    assert await storage.append_audit([event("e1", 1.0), event("e3", 3.0)]) == 1
    stored = await storage.query_audit(records.AuditQuery())
    assert [e["id"] for e in stored] == ["e3", "e2", "e1"]


async def test_query_filters_by_app_and_grant_and_limits(storage: sqlite.SqliteStorage) -> None:
    await storage.append_audit(
        [
            event("a", 1.0),
            event("b", 2.0, grant="g2"),
            event("c", 3.0, app="blog"),
            event("d", 4.0),
        ]
    )
    by_app = await storage.query_audit(records.AuditQuery(namespace="team-a", app="shop"))
    assert [e["id"] for e in by_app] == ["d", "b", "a"]
    by_grant = await storage.query_audit(records.AuditQuery(grant="g1", limit=1))
    assert [e["id"] for e in by_grant] == ["d"]


async def test_extra_filters_match_event_fields(storage: sqlite.SqliteStorage) -> None:
    await storage.append_audit([event("a", 1.0), {**event("b", 2.0), "kind": "grant.revoked"}])
    found = await storage.query_audit(records.AuditQuery(extra={"kind": "grant.revoked"}))
    assert [e["id"] for e in found] == ["b"]


async def test_an_extra_filter_that_is_not_a_field_name_is_refused(
    storage: sqlite.SqliteStorage,
) -> None:
    with pytest.raises(ValueError, match="not a field name"):
        await storage.query_audit(records.AuditQuery(extra={"x') OR 1=1 --": "y"}))


async def test_an_event_without_id_is_refused_naming_its_index(
    storage: sqlite.SqliteStorage,
) -> None:
    with pytest.raises(ValueError, match=r"\[1\]"):
        await storage.append_audit([event("a", 1.0), {"time": 2.0}])
    assert await storage.query_audit(records.AuditQuery()) == []
