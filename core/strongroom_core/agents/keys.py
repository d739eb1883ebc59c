"""Agent API keys: generation, hashing, checking, and the keys document that lifecycle
(rotation with an overlap, pruning) is done on.

A key is ``sra_<kid>_<secret>``: ``kid`` is 16 lower-case hex characters (public, so the sidecar
finds the stored hash in one lookup), ``secret`` 43 base64url characters (32 random bytes). Only
the SHA-256 of the whole key is ever stored or served. The keys are random and long, so a fast
hash suffices (nothing to brute-force like a password) and a check is one digest and one
constant-time comparison.

The keys document (one per Agent, an App document named :func:`document_name`)::

    {"format": "strongroom.agent-keys/v1",
     "keys": [{"kid": "...", "sha256": "<hex>", "created": 1700000000, "notAfter": 1700003600}]}

``notAfter`` is absent on the current key; :func:`rotate` adds a new key and sets it on every
older key still open (``now + overlap``), :func:`prune` drops keys past their ``notAfter``.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

PREFIX = "sra_"
FORMAT = "strongroom.agent-keys/v1"
DOCUMENT_PREFIX = "agent-keys."
KID_BYTES = 8
SECRET_BYTES = 32
_KEY = re.compile(r"^sra_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


class KeyFormatError(ValueError):
    """Not a Strongroom agent key (the message never quotes the value)."""


class KeysDocumentError(ValueError):
    """A keys document is malformed; the message names the field."""


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly generated key: ``plaintext`` is shown to a person once, then forgotten."""

    kid: str
    sha256: str
    plaintext: str = field(repr=False)


def document_name(agent: str) -> str:
    """The App document holding ``agent``'s key hashes."""
    return DOCUMENT_PREFIX + agent


def generate() -> NewKey:
    kid = secrets.token_hex(KID_BYTES)
    plaintext = f"{PREFIX}{kid}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return NewKey(kid=kid, sha256=digest(plaintext), plaintext=plaintext)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def kid_of(key: str) -> str:
    """The key id of a well-formed key; :class:`KeyFormatError` otherwise."""
    match = _KEY.match(key)
    if match is None:
        raise KeyFormatError(
            "not a Strongroom agent key (expected sra_<16 hex>_<43 base64url characters>)"
        )
    return match.group(1)


def matches(key: str, sha256_hex: str) -> bool:
    """Whether ``key`` hashes to ``sha256_hex``, compared in constant time."""
    return hmac.compare_digest(digest(key), sha256_hex)


def new_document(first: NewKey, now: float) -> dict[str, Any]:
    return {"format": FORMAT, "keys": [_entry(first, now)]}


def check_document(document: Any) -> list[dict[str, Any]]:
    """The key entries of a document, or :class:`KeysDocumentError` naming the field."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise KeysDocumentError(f"format: expected {FORMAT!r}")
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise KeysDocumentError("keys: expected a list")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise KeysDocumentError(f"keys[{index}]: expected an object")
        for name in ("kid", "sha256"):
            if not isinstance(entry.get(name), str) or not entry[name]:
                raise KeysDocumentError(f"keys[{index}].{name}: expected a non-empty string")
        not_after = entry.get("notAfter")
        if not_after is not None and (
            isinstance(not_after, bool) or not isinstance(not_after, int | float)
        ):
            raise KeysDocumentError(f"keys[{index}].notAfter: expected unix seconds")
    return entries


def rotate(document: dict[str, Any], now: float, overlap: float) -> tuple[dict[str, Any], NewKey]:
    """A new document with a new key; every older key still open (or closing later than
    ``now + overlap``) now stops at ``now + overlap``. Keys already past their end are pruned."""
    if overlap < 0:
        raise ValueError("overlap: must be >= 0 seconds")
    entries = check_document(document)
    ends = now + overlap
    kept: list[dict[str, Any]] = []
    for entry in copy.deepcopy(entries):
        not_after = entry.get("notAfter")
        if not_after is not None and not_after <= now:
            continue
        if not_after is None or not_after > ends:
            entry["notAfter"] = ends
        kept.append(entry)
    key = generate()
    kept.append(_entry(key, now))
    return {"format": FORMAT, "keys": kept}, key


def prune(document: dict[str, Any], now: float) -> dict[str, Any]:
    """The document without keys whose ``notAfter`` has passed."""
    entries = check_document(document)
    kept = [copy.deepcopy(e) for e in entries if e.get("notAfter") is None or e["notAfter"] > now]
    return {"format": FORMAT, "keys": kept}


def wire(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries as the compiled policy carries them: ``kid``, ``sha256``, ``notAfter``."""
    result: list[dict[str, Any]] = []
    for entry in check_document(document):
        item: dict[str, Any] = {"kid": entry["kid"], "sha256": entry["sha256"]}
        if entry.get("notAfter") is not None:
            item["notAfter"] = entry["notAfter"]
        result.append(item)
    return result


def _entry(key: NewKey, now: float) -> dict[str, Any]:
    return {"kid": key.kid, "sha256": key.sha256, "created": int(now)}
