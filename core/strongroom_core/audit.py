"""The audit event schema. One event per use and per lifecycle change.

Never a token, never a credential header, never a query value: :func:`redact_query` keeps
parameter names only. Events carry an ``id`` (32 hex characters, see :func:`new_event_id`) so
delivery can be at-least-once and storage idempotent.
"""

from __future__ import annotations

import itertools
import os
import time
from typing import Literal, NotRequired, TypedDict
from urllib.parse import parse_qsl, urlencode

Decision = Literal["allow", "deny"]
EventKind = Literal[
    "use",
    "grant.created",
    "grant.refreshed",
    "grant.revoked",
    "grant.needs_reauth",
    "key.rotated",
    "auth.refused",
]

MAX_REASON_LENGTH = 500
REDACTED = "REDACTED"


class AuditEvent(TypedDict):
    id: str
    time: float
    kind: EventKind
    namespace: str
    app: str
    caller: str
    """Who made the call: ``pod/<name>``, ``agent/<name>``, ``dev/<name>``."""
    principal: str
    """``<kind>:<id>`` of the grant's principal, or ``""`` when no grant was resolved."""
    grant: str
    provider: str
    method: str
    host: str
    path: str
    """Path with query values replaced by ``REDACTED``."""
    status: int
    """HTTP status answered to the caller (upstream's, or the sidecar's own on refusal)."""
    latency_ms: float
    decision: Decision
    reason: str
    """Why the decision was made (policy reason or error code)."""
    refreshed: bool
    trace_id: str
    caller_reason: NotRequired[str]
    """The caller's own ``Strongroom-Reason``, truncated to MAX_REASON_LENGTH."""
    context: NotRequired[dict[str, str]]


def redact_query(path_and_query: str) -> str:
    """``/a?x=1&y=2`` → ``/a?x=REDACTED&y=REDACTED``; a path without a query is unchanged."""
    path, sep, query = path_and_query.partition("?")
    if not sep:
        return path
    names = [(name, REDACTED) for name, _ in parse_qsl(query, keep_blank_values=True)]
    return f"{path}?{urlencode(names, safe=REDACTED)}" if names else path


def _new_sequence() -> tuple[str, itertools.count[int]]:
    return os.urandom(8).hex(), itertools.count()


_prefix, _counter = _new_sequence()


def _reseed_after_fork() -> None:
    global _prefix, _counter
    _prefix, _counter = _new_sequence()


os.register_at_fork(after_in_child=_reseed_after_fork)


def new_event_id() -> str:
    """A globally unique id: 64 random bits drawn once per process (and again in a forked
    child), then a 64-bit counter, as 32 hex characters. Unique across restarts and replicas
    like a UUID4 (the control plane dedups by id), without a ``urandom`` syscall per event."""
    return f"{_prefix}{next(_counter):016x}"


def now() -> float:
    return time.time()


def lifecycle_event(
    kind: EventKind,
    *,
    namespace: str,
    app: str,
    caller: str,
    status: int,
    decision: Decision,
    reason: str,
    principal: str = "",
    at: float | None = None,
) -> AuditEvent:
    """An event that is not a call through a sidecar (a key rotated, a caller refused): the
    call's fields (grant, provider, method, host, path, latency, trace) are empty, the reason is
    cut to ``MAX_REASON_LENGTH``, and the time is ``at`` or now."""
    return {
        "id": new_event_id(),
        "time": now() if at is None else at,
        "kind": kind,
        "namespace": namespace,
        "app": app,
        "caller": caller,
        "principal": principal,
        "grant": "",
        "provider": "",
        "method": "",
        "host": "",
        "path": "",
        "status": status,
        "latency_ms": 0.0,
        "decision": decision,
        "reason": reason[:MAX_REASON_LENGTH],
        "refreshed": False,
        "trace_id": "",
    }
