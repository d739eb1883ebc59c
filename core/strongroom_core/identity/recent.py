"""Recently verified tokens, so a caller sending the same token again skips the signature check.

An app sends the same end-user token with every call for its whole lifetime; the RSA operation
is most of a verification's cost. Entries are keyed by the SHA-256 of the exact token string
(equality of the string, without holding tokens in a long-lived structure), bounded in number
(least recently used goes first), and remember which key set verified them: when the JWKS is
replaced, every entry verifies again once. Expiry is checked on each use, by the caller.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from strongroom_core.identity import jwks

DEFAULT_MAX_ENTRIES = 1024


@dataclass(frozen=True, slots=True)
class Entry:
    claims: Mapping[str, Any]
    expires_at: float
    keys: jwks.KeySet


class RecentTokens:
    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must be >= 0")
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, Entry] = OrderedDict()

    @staticmethod
    def digest(token: str) -> bytes:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()

    def get(self, digest: bytes, keys: jwks.KeySet | None) -> Entry | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry.keys is not keys:
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return entry

    def put(self, digest: bytes, entry: Entry) -> None:
        if self.max_entries == 0:
            return
        self._entries[digest] = entry
        self._entries.move_to_end(digest)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, digest: bytes) -> None:
        self._entries.pop(digest, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
