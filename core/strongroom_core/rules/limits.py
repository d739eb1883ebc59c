"""Rate limits (token buckets) and calendar quotas, counted in this process only.

Counters live in :class:`Counters`, keyed by the limit's fingerprint (its rule and parameters),
so a recompiled policy keeps the counts of every limit that did not change: editing one Grant
does not hand everyone a fresh quota. Buckets for ``per: grant`` are created at compile time;
per-caller ones on first use, at most :data:`MAX_KEYS` per limit (the oldest is dropped beyond,
which can only forget a count, so that limit is briefly looser for the dropped caller).

Consumption is two-phase — :meth:`Limit.available` for every limit first, then
:meth:`Limit.consume` for all — so a call denied by one limit burns no token of another. A
decision runs to completion without awaiting, so nothing interleaves between the two phases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strongroom_core.rules import clocks, specs

MAX_KEYS = 10_000


class Bucket:
    """Token bucket state. Starts full."""

    __slots__ = ("tokens", "updated")

    def __init__(self, tokens: float, updated: float) -> None:
        self.tokens = tokens
        self.updated = updated


class Count:
    """Quota state: requests counted in ``[start, end)``."""

    __slots__ = ("end", "start", "used")

    def __init__(self) -> None:
        self.used = 0
        self.start = 0.0
        self.end = 0.0


@dataclass
class Counters:
    """Every limit's state, carried from one compiled policy to the next."""

    by_fingerprint: dict[str, dict[Any, Any]] = field(default_factory=dict)

    def table(self, fingerprint: str) -> dict[Any, Any]:
        return self.by_fingerprint.setdefault(fingerprint, {})


def key_for(per: str, grant: str, caller: str) -> Any:
    if per == "grant":
        return grant
    if per == "caller":
        return caller
    return (grant, caller)


class RateLimit:
    """One rule's token bucket, shared by the grants it applies to as ``per`` says."""

    __slots__ = ("burst", "rate", "spec", "table")

    def __init__(self, spec: specs.RateLimit, table: dict[Any, Bucket]) -> None:
        self.spec = spec
        self.table = table
        self.rate = spec.requests / spec.period_seconds
        self.burst = float(spec.burst)

    def bucket(self, key: Any, now: float) -> Bucket:
        found = self.table.get(key)
        if found is None:
            if len(self.table) >= MAX_KEYS:
                del self.table[next(iter(self.table))]
            found = self.table[key] = Bucket(self.burst, now)
        return found

    def _tokens(self, bucket: Bucket, now: float) -> float:
        elapsed = now - bucket.updated
        if elapsed <= 0:
            return bucket.tokens
        return min(self.burst, bucket.tokens + elapsed * self.rate)

    def wait(self, key: Any, now: float) -> float:
        """0 when a request may go now, else seconds until a token is there."""
        tokens = self._tokens(self.bucket(key, now), now)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def consume(self, key: Any, now: float) -> None:
        bucket = self.bucket(key, now)
        bucket.tokens = self._tokens(bucket, now) - 1.0
        bucket.updated = max(now, bucket.updated)


class Quota:
    """One rule's calendar quota."""

    __slots__ = ("spec", "table")

    def __init__(self, spec: specs.Quota, table: dict[Any, Count]) -> None:
        self.spec = spec
        self.table = table

    def count(self, key: Any, now: float) -> Count:
        found = self.table.get(key)
        if found is None:
            if len(self.table) >= MAX_KEYS:
                del self.table[next(iter(self.table))]
            found = self.table[key] = Count()
        if not found.start <= now < found.end:
            found.start, found.end = clocks.period_bounds(now, self.spec.period, self.spec.zone)
            found.used = 0
        return found

    def wait(self, key: Any, now: float) -> float:
        """0 when a request may go now, else seconds until the period resets."""
        count = self.count(key, now)
        return 0.0 if count.used < self.spec.requests else max(count.end - now, 0.0)

    def consume(self, key: Any, now: float) -> None:
        self.count(key, now).used += 1

    def resets_at(self, key: Any, now: float) -> float:
        return self.count(key, now).end
