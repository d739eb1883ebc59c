"""Refresh claims: one refresh per grant per expiry across every sidecar of an App.

A claim is a compare-and-swap on the grant record that the control plane decides with its own
clock, so sidecars with skewed clocks still agree on whether a lease has run out:

- the grant must be ``Ready`` and still at the ``generation`` the caller wants to replace
  (otherwise someone already refreshed it: ``409 generation_changed`` with the current record,
  which the caller uses at once);
- no other holder may have an unexpired claim (``409 claim_held`` with the record, whose
  ``claimExpiresAt`` says how long to wait on the watch stream);
- then ``claimHolder`` and ``claimExpiresAt = now + leaseSeconds`` are written with the version
  just read. The answer carries the new version: the holder writes its refreshed credential back
  with exactly that ``expectedVersion`` (``PUT``), so a write after its lease was taken over
  fails instead of overwriting the newer refresh.

The same holder may claim again (renewal). Conflicting writes between the read and the write
are retried here a few times, so callers get a definitive answer.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from strongroom_core.storage import errors as storage_errors
from strongroom_core.storage import ports, records
from strongroom_operator.controlplane import bodies, problems

MAX_LEASE_SECONDS = 600.0
_ATTEMPTS = 5


class ClaimRefused(Exception):
    """409: the caller must not refresh now; ``record`` is the grant as stored."""

    def __init__(self, code: str, detail: str, record: records.GrantRecord, now: float) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.record = record
        self.now = now


@dataclasses.dataclass(frozen=True, slots=True)
class ClaimRequest:
    holder: str
    lease_seconds: float
    generation: int


def parse_claim_request(body: dict[str, Any]) -> ClaimRequest:
    holder = body.get("holder")
    if not isinstance(holder, str) or not holder or len(holder) > 253:
        raise problems.invalid("holder", "required: a non-empty string (this sidecar's id)")
    lease: Any = body.get("leaseSeconds")
    if not bodies.is_number(lease) or not 0 < lease <= MAX_LEASE_SECONDS:
        raise problems.invalid(
            "leaseSeconds", f"required: seconds, more than 0 and at most {MAX_LEASE_SECONDS:g}"
        )
    generation: Any = body.get("generation")
    if not bodies.is_int(generation) or generation < 1:
        raise problems.invalid("generation", "required: the generation you want to refresh")
    return ClaimRequest(holder, float(lease), generation)


async def claim(
    storage: ports.Storage,
    namespace: str,
    app: str,
    name: str,
    request: ClaimRequest,
    clock: Callable[[], float] = time.time,
) -> tuple[records.GrantRecord, float]:
    """Take (or renew) the claim; ``(record as written, server time)``. Raises
    :class:`ClaimRefused` or 404."""
    for _ in range(_ATTEMPTS):
        stored = await storage.get_grant(namespace, name)
        if stored is None or stored.app != app:
            raise problems.not_found(f"App {namespace}/{app} has no grant {name!r}")
        now = clock()
        _check(stored, request, now)
        updated = dataclasses.replace(
            stored, claim_holder=request.holder, claim_expires_at=now + request.lease_seconds
        )
        try:
            return await storage.replace_grant(updated, stored.version), now
        except storage_errors.ConflictError:
            continue
    raise storage_errors.ConflictError(f"grant {namespace}/{name}", None, None)


def _check(stored: records.GrantRecord, request: ClaimRequest, now: float) -> None:
    if stored.state != "Ready":
        raise ClaimRefused(
            "not_refreshable",
            f"grant {stored.name!r} is {stored.state}; only a Ready grant is refreshed",
            stored,
            now,
        )
    if stored.generation != request.generation:
        raise ClaimRefused(
            "generation_changed",
            f"grant {stored.name!r} is at generation {stored.generation}, not "
            f"{request.generation}: it was refreshed already; use the current credential",
            stored,
            now,
        )
    holder, expires = stored.claim_holder, stored.claim_expires_at
    if holder and holder != request.holder and expires is not None and expires > now:
        raise ClaimRefused(
            "claim_held",
            f"grant {stored.name!r} is being refreshed by another sidecar for "
            f"{expires - now:.1f}s more; wait for the new generation on the watch stream",
            stored,
            now,
        )
