"""Data keys and keyrings: the symmetric AES-256 keys that seal grant credentials.

Key ids are short random strings, never derived from key material: a key id travels in every
envelope, in logs and in audit, so it must tell nothing about the key.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

KEY_BYTES = 32
"""AES-256."""

KID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
"""Lower-case base32: url-safe, no dots (the envelope separator), no ambiguous case."""

KID_LENGTH = 12
"""60 random bits: collisions within one keyring are not a practical concern."""

KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What a key id read from a blob or document may look like. Wider than what ``new_kid``
makes, so ids minted by a later version still parse; never contains a dot."""


def new_kid() -> str:
    """A fresh random key id."""
    return "".join(secrets.choice(KID_ALPHABET) for _ in range(KID_LENGTH))


def is_valid_kid(kid: str) -> bool:
    return KID_PATTERN.fullmatch(kid) is not None


@dataclass(frozen=True, slots=True)
class DataKey:
    """One AES-256 key and its id. ``created`` is unix seconds, kept for the key documents."""

    kid: str
    material: bytes = field(repr=False)
    created: int = field(default_factory=lambda: int(time.time()), compare=False)

    def __post_init__(self) -> None:
        if not is_valid_kid(self.kid):
            raise ValueError("a key id is 1-64 characters of A-Z, a-z, 0-9, '_' and '-'")
        if len(self.material) != KEY_BYTES:
            raise ValueError(f"key {self.kid!r}: material must be {KEY_BYTES} bytes")

    @classmethod
    def generate(cls) -> DataKey:
        return cls(kid=new_kid(), material=secrets.token_bytes(KEY_BYTES))

    def __repr__(self) -> str:
        return f"DataKey(kid={self.kid!r}, material=<redacted>)"

    __str__ = __repr__


class Keyring:
    """An immutable set of data keys with one active key.

    Sealing always uses the active key; opening uses whichever key the envelope names, so old
    blobs stay readable while a rotation re-seals them.
    """

    __slots__ = ("_active", "_keys")

    def __init__(self, keys: Iterable[DataKey], active: str) -> None:
        by_kid: dict[str, DataKey] = {}
        for key in keys:
            if key.kid in by_kid and by_kid[key.kid] != key:
                raise ValueError(f"two different keys share the key id {key.kid!r}")
            by_kid[key.kid] = key
        if active not in by_kid:
            raise ValueError(f"the active key id {active!r} is not among the keys")
        self._keys = by_kid
        self._active = active

    @property
    def active(self) -> DataKey:
        return self._keys[self._active]

    def get(self, kid: str) -> DataKey | None:
        return self._keys.get(kid)

    def kids(self) -> list[str]:
        """Key ids, oldest first (the order keys were added)."""
        return list(self._keys)

    def keys(self) -> list[DataKey]:
        return list(self._keys.values())

    def with_key(self, key: DataKey, activate: bool = True) -> Keyring:
        """A keyring with ``key`` added (and made active unless ``activate`` is false)."""
        return Keyring([*self._keys.values(), key], key.kid if activate else self._active)

    def without(self, kid: str) -> Keyring:
        """A keyring without ``kid``. The active key cannot be dropped: activate another first."""
        if kid == self._active:
            raise ValueError(f"key {kid!r} is the active key and cannot be dropped")
        return Keyring([k for k in self._keys.values() if k.kid != kid], self._active)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __iter__(self) -> Iterator[DataKey]:
        return iter(list(self._keys.values()))

    def __len__(self) -> int:
        return len(self._keys)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Keyring):
            return NotImplemented
        return self._active == other._active and self._keys == other._keys

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Keyring(active={self._active!r}, kids={self.kids()!r})"

    __str__ = __repr__
