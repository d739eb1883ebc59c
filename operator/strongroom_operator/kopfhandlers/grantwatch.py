"""A daemon per Grant: enforces its expiry on time and reflects its record's state in its
status.

Why polling the record rather than a watch: the state changes that happen outside the operator
(a sidecar marking a grant ``NeedsReauth`` after ``invalid_grant``) are rare and not urgent to
display, a poll is one GET per Grant per ``grant_poll_seconds``, and it cannot miss anything
(a watch would need resynchronising after every reconnect). Expiry is not polled: the daemon
sleeps exactly until ``grant_expires_at``, then marks the record ``Expired`` (so sidecars stop
using it at once, through their watch) and the status.

Only a Grant whose status came from its record (Ready, NeedsReauth, Revoked, Expired) for its
current generation is touched: an Invalid or Pending Grant belongs to its handler.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import kopf

from strongroom_core.resources import errors, models
from strongroom_core.storage import errors as storage_errors
from strongroom_core.storage import records
from strongroom_operator.kopfhandlers import conditions, indexes, kubeio, reporting, runtime
from strongroom_operator.reconcile import outcomes

RECORD_STATES = ("Ready", "NeedsReauth", "Revoked", "Expired")


async def watch(rt: runtime.Runtime, body: kopf.Body, stopped: kopf.DaemonStopped) -> None:
    metadata = body.get("metadata", {})
    namespace, name = metadata.get("namespace", ""), metadata.get("name", "")
    expires_at = _spec_expiry(rt, body)
    while not stopped:
        wait = rt.settings.grant_poll_seconds
        if expires_at is not None:
            wait = max(0.0, min(wait, expires_at - rt.clock()))
        # A plain sleep: kopf cancels async daemons on stop (cancellation_timeout=0), which
        # interrupts a sleep cleanly; every step below is a single idempotent request.
        await asyncio.sleep(wait)
        if stopped or rt.storage.closed:
            return
        record = await rt.storage.get_grant(namespace, name)
        if record is None or record.uid != body.get("metadata", {}).get("uid"):
            expires_at = _spec_expiry(rt, body)
            if expires_at is not None and expires_at <= rt.clock():
                expires_at = None  # expired before it had a record: its handler says so
            continue
        record = await _expire_if_due(rt, record)
        live = record.state not in ("Expired", "Revoked")
        expires_at = record.grant_expires_at if live else None
        await _reflect(rt, body, record)


def _spec_expiry(rt: runtime.Runtime, body: kopf.Body) -> float | None:
    try:
        grant = indexes.parse(body, allow_loopback_http=rt.settings.allow_loopback_http)
    except errors.ValidationError:
        return None
    return grant.expires_at if isinstance(grant, models.Grant) else None


async def _expire_if_due(rt: runtime.Runtime, record: records.GrantRecord) -> records.GrantRecord:
    due = record.grant_expires_at is not None and rt.clock() >= record.grant_expires_at
    if not due or record.state in ("Expired", "Revoked"):
        return record
    expired = dataclasses.replace(record, state="Expired", message="the grant's expiry has passed")
    try:
        return await rt.storage.replace_grant(expired, record.version)
    except storage_errors.ConflictError:
        return record  # someone wrote meanwhile: the next round reads it again


async def _reflect(rt: runtime.Runtime, body: kopf.Body, record: records.GrantRecord) -> None:
    current: dict[str, Any] = dict(body.get("status") or {})
    generation = int(body.get("metadata", {}).get("generation") or 0)
    if current.get("state") not in RECORD_STATES or current.get("observedGeneration") != generation:
        return
    outcome = outcomes.of_record(record)
    status = conditions.status_of(current, outcome, generation, rt.clock(), with_state=True)
    if not conditions.differs(current, {"state": status["state"], "message": status["message"]}):
        return
    metadata = body.get("metadata", {})
    await kubeio.patch_status(
        rt.kube, "grants", metadata.get("namespace", ""), metadata.get("name", ""), status
    )
    reporting.announce(body, current, outcome)
