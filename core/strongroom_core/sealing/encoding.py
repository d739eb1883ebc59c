"""Strict base64 for envelopes and key documents.

Strict means: only the alphabet, and only the canonical encoding. The standard library silently
skips foreign characters and ignores the unused low bits of the last character, so two different
strings could decode to the same bytes; an envelope must have exactly one spelling.
"""

from __future__ import annotations

import base64
import binascii
import re

_URLSAFE = re.compile(r"[A-Za-z0-9_-]*")
_STANDARD = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes | None:
    """Bytes of an unpadded url-safe base64 string, or ``None`` if it is not one (canonically)."""
    if _URLSAFE.fullmatch(text) is None or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if b64url_encode(data) == text else None


def b64_encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64_decode(text: str) -> bytes | None:
    """Bytes of a padded standard base64 string, or ``None`` if it is not one."""
    if _STANDARD.fullmatch(text) is None:
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if b64_encode(data) == text else None
