"""Audit ingest (idempotent, checked, bounded) and the admin query."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom_core import audit
from tests.controlplane import harness as h


def event(event_id: str | None = None, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": event_id or audit.new_event_id(),
        "time": audit.now(),
        "kind": "use",
        "namespace": "team-a",
        "app": "shop",
        "caller": "pod/shop-1",
        "principal": "user:alice",
        "grant": "g1",
        "provider": "github",
        "method": "GET",
        "host": "api.github.com",
        "path": "/user",
        "status": 200,
        "latency_ms": 12.5,
        "decision": "allow",
        "reason": "policy: default",
        "refreshed": False,
        "trace_id": "t-1",
    }
    base.update(changes)
    return base


async def ingest(
    harness: h.Harness, events: Any, headers: dict[str, str] = h.SIDECAR
) -> tuple[int, dict[str, Any]]:
    async with harness.client.post(
        f"{harness.url}/v1/audit", json={"events": events}, headers=headers
    ) as response:
        if response.status == 200:
            return response.status, await response.json()
        return response.status, await h.problem_of(response)


async def query(harness: h.Harness, params: str = "", headers: dict[str, str] = h.ADMIN) -> Any:
    async with harness.client.get(f"{harness.url}/v1/audit{params}", headers=headers) as response:
        if response.status == 200:
            return (await response.json())["events"]
        return response.status, await h.problem_of(response)


async def test_events_are_stored_once_when_delivered_twice(harness: h.Harness) -> None:
    first, second = event("e1", time=1.0), event("e2", time=2.0)
    assert await ingest(harness, [first, second]) == (200, {"accepted": 2, "stored": 2})
    assert await ingest(harness, [second, event("e3", time=3.0)]) == (
        200,
        {"accepted": 2, "stored": 1},
    )
    assert [e["id"] for e in await query(harness)] == ["e3", "e2", "e1"]


async def test_unknown_event_fields_are_dropped_not_stored(harness: h.Harness) -> None:
    await ingest(harness, [event("e1", extra_field="whatever", caller_reason="ticket 12")])
    [stored] = await query(harness)
    assert "extra_field" not in stored
    assert stored["caller_reason"] == "ticket 12"


async def test_more_events_than_the_limit_are_refused(harness: h.Harness) -> None:
    limit = harness.control_plane.settings.max_audit_events
    status, problem = await ingest(harness, [event() for _ in range(limit + 1)])
    assert status == 400
    assert problem["detail"].startswith("events:")
    assert str(limit) in problem["detail"]


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        ({"status": "200"}, "status"),
        ({"decision": "maybe"}, "decision"),
        ({"kind": "teleport"}, "kind"),
        ({"refreshed": "no"}, "refreshed"),
        ({"id": ""}, "id"),
        ({"context": {"k": 1}}, "context"),
        ({"caller_reason": "x" * (audit.MAX_REASON_LENGTH + 1)}, "caller_reason"),
        ({"time": None}, "time"),
    ],
)
async def test_a_malformed_event_is_refused_naming_its_index_and_field(
    harness: h.Harness, broken: dict[str, Any], field: str
) -> None:
    status, problem = await ingest(harness, [event(), event(**broken)])
    assert status == 400
    assert problem["code"] == "invalid_request"
    assert problem["detail"].startswith(f"events[1].{field}:")
    assert await query(harness) == []


async def test_a_missing_event_field_is_refused_naming_it(harness: h.Harness) -> None:
    incomplete = event()
    del incomplete["host"]
    status, problem = await ingest(harness, [incomplete])
    assert status == 400
    assert problem["detail"].startswith("events[0].host: required")


async def test_events_must_be_a_list(harness: h.Harness) -> None:
    status, problem = await ingest(harness, {"id": "e1"})
    assert status == 400
    assert problem["detail"].startswith("events:")


async def test_a_sidecar_may_not_report_for_another_app(harness: h.Harness) -> None:
    status, problem = await ingest(harness, [event(), event(app="blog")])
    assert status == 403
    assert problem["detail"].startswith("events[1].app:")
    assert await query(harness) == []


async def test_an_admin_may_report_for_any_app(harness: h.Harness) -> None:
    status, _ = await ingest(harness, [event(app="blog", kind="grant.revoked")], headers=h.ADMIN)
    assert status == 200


async def test_ingest_needs_a_token(harness: h.Harness) -> None:
    status, problem = await ingest(harness, [event()], headers={})
    assert status == 401
    assert problem["code"] == "unauthenticated"


async def test_the_query_filters_by_namespace_app_and_grant_with_a_limit(
    harness: h.Harness,
) -> None:
    await ingest(harness, [event("a", time=1.0), event("b", time=2.0, grant="g2")])
    await ingest(harness, [event("c", time=3.0, app="blog")], headers=h.OTHER_SIDECAR)
    assert [e["id"] for e in await query(harness, "?namespace=team-a&app=shop")] == ["b", "a"]
    assert [e["id"] for e in await query(harness, "?grant=g1")] == ["c", "a"]
    assert [e["id"] for e in await query(harness, "?limit=1")] == ["c"]


async def test_the_query_filters_by_kind_and_decision(harness: h.Harness) -> None:
    await ingest(
        harness,
        [
            event("use", time=1.0),
            event("denied", time=2.0, decision="deny", status=403),
            event("revoked", time=3.0, kind="grant.revoked"),
        ],
    )
    assert [e["id"] for e in await query(harness, "?decision=deny")] == ["denied"]
    assert [e["id"] for e in await query(harness, "?kind=grant.revoked")] == ["revoked"]


async def test_only_an_admin_may_query(harness: h.Harness) -> None:
    status, problem = await query(harness, headers=h.SIDECAR)
    assert status == 403
    assert problem["code"] == "forbidden"


@pytest.mark.parametrize("limit", ["0", "abc", "100000"])
async def test_a_bad_limit_is_refused_naming_it(harness: h.Harness, limit: str) -> None:
    status, problem = await query(harness, f"?limit={limit}")
    assert status == 400
    assert problem["detail"].startswith("limit:")
