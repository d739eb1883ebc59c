"""The bounded audit buffer between calls and the control plane's ``POST /v1/audit``.

A call reserves a slot *before* its credential is used, so a full buffer refuses the call
(``503 audit_unavailable``) instead of letting an unrecorded use through; ``drop`` mode lets it
through and counts the lost event. Delivery runs off the hot path in one task: batches, retry
with exponential backoff and jitter, at-least-once (an event leaves the buffer only after the
control plane accepted it; its ``id`` makes a repeat harmless). Each event is also printed as
one JSON line on stdout, the local record that survives a control-plane outage.

An event is encoded to JSON once, when it is committed (a few µs spread over the calls), and
those bytes are both the stdout line and the batch's part: delivery only joins them, so it
never stalls the event loop encoding hundreds of events at once.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import random
import sys
from dataclasses import dataclass
from typing import TextIO

from strongroom_core import audit
from strongroom_sidecar import controlplane_client, logs, metrics
from strongroom_sidecar import settings as settings_module

log = logs.get("audit")

# Answers that say "this body is wrong", not "try again later".
_REJECTED = frozenset({400, 413, 422})


@dataclass(slots=True)
class Reservation:
    """A place in the buffer for one event; ``dropping`` when drop mode let a call through
    with the buffer full."""

    dropping: bool
    used: bool = False


class AuditBuffer:
    def __init__(
        self,
        settings: settings_module.SidecarSettings,
        client: controlplane_client.ControlPlaneClient,
        counters: metrics.Metrics,
        stdout: TextIO | None = None,
    ) -> None:
        self._capacity = settings.audit_buffer_size
        self._fail_closed = settings.audit_mode == "fail_closed"
        self._print_events = settings.audit_stdout
        self._batch_size = settings.audit_batch_size
        self._interval = settings.audit_flush_interval
        self._retry_max = settings.audit_retry_max
        self._client = client
        self._metrics = counters
        self._stdout = stdout
        self._reserved = 0
        self._pending: collections.deque[bytes] = collections.deque()
        """Encoded events waiting for delivery, oldest first."""
        self._unprinted: list[bytes] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    @property
    def depth(self) -> int:
        """Events held: reserved by calls in flight plus waiting for delivery."""
        return self._reserved + len(self._pending)

    def reserve(self) -> Reservation | None:
        """A slot for one event, or ``None`` when full in fail-closed mode."""
        if self.depth >= self._capacity:
            return None if self._fail_closed else Reservation(dropping=True)
        self._reserved += 1
        return Reservation(dropping=False)

    def commit(self, reservation: Reservation, event: audit.AuditEvent) -> None:
        if reservation.used:
            return
        reservation.used = True
        encoded = encode(event)
        self._unprinted.append(encoded)
        if reservation.dropping:
            self._metrics.audit_dropped += 1
        else:
            self._reserved -= 1
            self._pending.append(encoded)
            if len(self._pending) >= self._batch_size:
                self._wake.set()

    def release(self, reservation: Reservation) -> None:
        """Give back a slot that no event will fill."""
        if not reservation.used:
            reservation.used = True
            if not reservation.dropping:
                self._reserved -= 1

    def record(self, event: audit.AuditEvent) -> None:
        """Best effort for calls refused before a slot was needed (a refusal uses nothing)."""
        reservation = self.reserve()
        if reservation is None:
            self._metrics.audit_dropped += 1
            self._unprinted.append(encode(event))
            return
        self.commit(reservation, event)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="strongroom-audit-delivery")

    async def close(self, grace: float) -> None:
        """Deliver what is held, for at most ``grace`` seconds; what is left is logged."""
        self._closing = True
        self._wake.set()
        if self._task is None:
            self._print()
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._print()
            if self._pending:
                log.error(
                    "audit events not delivered at shutdown (still on stdout)",
                    extra={"fields": {"events": len(self._pending)}},
                )
        self._task = None

    async def _run(self) -> None:
        backoff = 0.2
        isolating = 0  # events left to send one by one after a batch was rejected
        while True:
            if not self._pending and not self._closing:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                # that arrives as the event fires, and stop() would then wait forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._interval):
                        await self._wake.wait()
                self._wake.clear()
            self._print()
            if not self._pending:
                if self._closing:
                    return
                continue
            size = 1 if isolating else self._batch_size
            batch = list(itertools.islice(self._pending, 0, size))
            try:
                await self._client.post_audit(batch)
            except controlplane_client.ControlPlaneError as e:
                if e.status in _REJECTED:
                    # The control plane will never take this batch as it is: find the bad
                    # event by sending one at a time, and drop only that one.
                    if len(batch) > 1:
                        isolating = len(batch)
                        continue
                    self._pending.popleft()
                    self._metrics.audit_rejected += 1
                    log.error(
                        "audit event rejected by the control plane; dropped",
                        extra={"fields": {"event": _event_id(batch[0]), "error": str(e)}},
                    )
                    isolating = max(0, isolating - 1)
                    continue
                self._metrics.audit_delivery_failures += 1
                log.warning(
                    "audit delivery failed; retrying",
                    extra={"fields": {"error": str(e), "events": len(self._pending)}},
                )
                await asyncio.sleep(backoff * (0.5 + random.random()))  # noqa: S311 - jitter
                backoff = min(backoff * 2, self._retry_max)
                continue
            backoff = 0.2
            isolating = max(0, isolating - len(batch))
            for _ in batch:
                self._pending.popleft()
            self._metrics.audit_delivered += len(batch)

    def _print(self) -> None:
        if not self._unprinted:
            return
        events, self._unprinted = self._unprinted, []
        if not self._print_events:
            return
        out = self._stdout or sys.stdout
        out.write((b"\n".join(events) + b"\n").decode("ascii"))
        out.flush()


# One encoder for every event: ``json.dumps`` with options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


def encode(event: audit.AuditEvent) -> bytes:
    """One event as compact JSON, keys sorted: the stdout line (without its newline) and the
    event's part of a ``POST /v1/audit`` body. ASCII only (``ensure_ascii``)."""
    return _ENCODER.encode(event).encode("ascii")


def _event_id(encoded: bytes) -> str:
    try:
        return str(json.loads(encoded).get("id", ""))
    except ValueError:
        return ""
