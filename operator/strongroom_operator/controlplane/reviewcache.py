"""A small cache of accepted callers, keyed by a hash of the token.

A sidecar calls watch, keys, grants and audit within seconds of each other; reviewing the token
each time would put a TokenReview, a pod read and an App read on every call. Entries live at
most ``ttl`` seconds and never past the token's own expiry, and the cache is bounded (least
recently used out first). The key is a SHA-256 of the token, so the cache never holds a token.
"""

from __future__ import annotations

import collections
import hashlib
import time
from collections.abc import Callable

from strongroom_operator.controlplane import auth

MAX_TTL = 60.0


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ReviewCache:
    def __init__(
        self,
        ttl: float = 30.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 <= ttl <= MAX_TTL:
            raise ValueError(f"review cache ttl: {ttl}s; expected 0 to {MAX_TTL:g} seconds")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._wall_clock = wall_clock
        self._entries: collections.OrderedDict[str, tuple[float, auth.Caller]] = (
            collections.OrderedDict()
        )

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"ReviewCache(<{len(self._entries)} callers>, ttl={self.ttl}s)"

    def get(self, key: str) -> auth.Caller | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        deadline, caller = entry
        if self._clock() >= deadline:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return caller

    def put(self, key: str, caller: auth.Caller, token_expires_at: float | None) -> None:
        """Remember ``caller`` for at most ``ttl`` seconds and never past ``token_expires_at``
        (unix seconds, when the token says)."""
        lifetime = self.ttl
        if token_expires_at is not None:
            lifetime = min(lifetime, token_expires_at - self._wall_clock())
        if lifetime <= 0 or self.max_entries <= 0:
            return
        self._entries[key] = (self._clock() + lifetime, caller)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
