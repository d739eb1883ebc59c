"""Checking audit events a sidecar ingests against ``strongroom_core.audit.AuditEvent``.

Only known fields are stored: an unknown field from a newer sidecar is dropped rather than
refused (ingest must keep working across a rolling upgrade), and dropping also keeps anything
unexpected out of the audit store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

from strongroom_core import audit
from strongroom_operator.controlplane import auth, bodies, problems, refusals

MAX_ID_LENGTH = 128
MAX_STRING_LENGTH = 4096

_KINDS = get_args(audit.EventKind)
"""With ``auth.refused``: it arrives from other control-plane replicas forwarding to the
collector (a sidecar may not send it)."""
_DECISIONS = get_args(audit.Decision)


def _string(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_STRING_LENGTH


def _context(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and _string(v) for k, v in value.items()
    )


_REQUIRED: dict[str, tuple[Callable[[Any], bool], str]] = {
    "id": (lambda v: isinstance(v, str) and 0 < len(v) <= MAX_ID_LENGTH, "a non-empty string"),
    "time": (bodies.is_number, "unix seconds (a number)"),
    "kind": (lambda v: v in _KINDS, f"one of {', '.join(_KINDS)}"),
    "namespace": (_string, "a string"),
    "app": (_string, "a string"),
    "caller": (_string, "a string"),
    "principal": (_string, "a string"),
    "grant": (_string, "a string"),
    "provider": (_string, "a string"),
    "method": (_string, "a string"),
    "host": (_string, "a string"),
    "path": (_string, "a string"),
    "status": (bodies.is_int, "an integer"),
    "latency_ms": (bodies.is_number, "a number"),
    "decision": (lambda v: v in _DECISIONS, f"one of {', '.join(_DECISIONS)}"),
    "reason": (_string, "a string"),
    "refreshed": (lambda v: isinstance(v, bool), "true or false"),
    "trace_id": (_string, "a string"),
}

_OPTIONAL: dict[str, tuple[Callable[[Any], bool], str]] = {
    "caller_reason": (
        lambda v: isinstance(v, str) and len(v) <= audit.MAX_REASON_LENGTH,
        f"a string of at most {audit.MAX_REASON_LENGTH} characters",
    ),
    "context": (_context, "an object of strings"),
}


def parse_events(body: dict[str, Any], caller: auth.Caller, limit: int) -> list[dict[str, Any]]:
    """The request's events, checked and stripped to known fields; 400 naming
    ``events[i].field``, 403 when a sidecar reports for another App."""
    events = body.get("events")
    if not isinstance(events, list):
        raise problems.invalid("events", "required: a list of audit events")
    if len(events) > limit:
        raise problems.invalid(
            "events", f"{len(events)} events; at most {limit} per request, send them in batches"
        )
    return [_check(index, event, caller) for index, event in enumerate(events)]


def _check(index: int, event: Any, caller: auth.Caller) -> dict[str, Any]:
    where = f"events[{index}]"
    if not isinstance(event, dict):
        raise problems.invalid(where, "expected an object")
    kept: dict[str, Any] = {}
    for field, (valid, expected) in _REQUIRED.items():
        if field not in event:
            raise problems.invalid(f"{where}.{field}", "required")
        if not valid(event[field]):
            raise problems.invalid(f"{where}.{field}", f"expected {expected}")
        kept[field] = event[field]
    for field, (valid, expected) in _OPTIONAL.items():
        if field in event:
            if not valid(event[field]):
                raise problems.invalid(f"{where}.{field}", f"expected {expected}")
            kept[field] = event[field]
    if caller.kind == "sidecar":
        if kept["kind"] == refusals.AUTH_REFUSED:
            raise problems.forbidden(f"{where}.kind: only the control plane records refusals")
        for field in ("namespace", "app"):
            if kept[field] != getattr(caller, field):
                raise problems.forbidden(
                    f"{where}.{field}: this sidecar reports for App"
                    f" {caller.namespace}/{caller.app} only"
                )
    return kept
