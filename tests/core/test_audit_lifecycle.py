"""Lifecycle events (a key rotated, a caller refused) carry who and why, and no call fields."""

from __future__ import annotations

from strongroom_core import audit


def test_a_lifecycle_event_leaves_the_call_fields_empty_and_cuts_the_reason() -> None:
    event = audit.lifecycle_event(
        "key.rotated",
        namespace="shop",
        app="web",
        caller="cli/alice",
        status=200,
        decision="allow",
        reason="x" * (audit.MAX_REASON_LENGTH + 10),
        at=12.5,
    )
    assert event["time"] == 12.5
    assert len(event["reason"]) == audit.MAX_REASON_LENGTH
    assert (event["kind"], event["namespace"], event["app"]) == ("key.rotated", "shop", "web")
    call_fields = ("principal", "grant", "provider", "method", "host", "path", "trace_id")
    assert {event[field] for field in call_fields} == {""}
    assert event["latency_ms"] == 0.0
    assert event["refreshed"] is False


def test_two_lifecycle_events_have_different_ids() -> None:
    first, second = (
        audit.lifecycle_event(
            "auth.refused",
            namespace="",
            app="",
            caller="unknown",
            status=401,
            decision="deny",
            reason="token_rejected",
        )
        for _ in range(2)
    )
    assert first["id"] != second["id"]
