"""Strict base64url (RFC 7515 §2: no padding, URL alphabet, canonical) and strict JSON objects.

Strict because a lenient decoder gives one signature many spellings and lets a crafted header or
JWKS mean two things: duplicate member names, ``NaN`` and padding are all refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_ALPHABET_INDEX = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url; ``ValueError`` if it is not the canonical spelling."""
    remainder = len(text) % 4
    if remainder == 1 or not _B64URL.fullmatch(text):
        raise ValueError("not unpadded base64url")
    # The last character of a short group carries unused low bits (4 or 2). Non-zero ones would
    # decode to the same bytes: refuse the alternative spelling.
    if remainder and _ALPHABET_INDEX[text[-1]] & (0x0F if remainder == 2 else 0x03):
        raise ValueError("not canonical base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-remainder % 4))
    except binascii.Error as e:
        raise ValueError("not unpadded base64url") from e


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            shown = name if len(name) <= 40 else name[:40] + "..."
            raise ValueError(f"member {shown!r} appears twice")
        result[name] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constants)


def json_object(raw: bytes | str) -> dict[str, Any]:
    """Parse a JSON object, refusing duplicate members and non-standard constants."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = _DECODER.decode(text)
    except RecursionError as e:
        raise ValueError("nested too deeply") from e
    except UnicodeDecodeError as e:
        raise ValueError("not UTF-8") from e
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON ({e.msg} at position {e.pos})") from e
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value
