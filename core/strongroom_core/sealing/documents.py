"""Shared parsing for key documents (root keys, App keys, sealing key).

Errors name the field (``keys[1].key``) and never the value: values are key material.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from strongroom_core.sealing import encoding, errors, keys


def fail(what: str, problem: str) -> errors.MalformedKeyDocumentError:
    return errors.MalformedKeyDocumentError(f"{what}: {problem}")


def check_format(document: Any, what: str, expected: str) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise fail(what, "must be a JSON object")
    if document.get("format") != expected:
        raise fail(what, f'field "format" must be {expected!r}')
    return document


def key_entries(document: Mapping[str, Any], what: str) -> Sequence[Mapping[str, Any]]:
    entries = document.get("keys")
    if not isinstance(entries, list) or not entries:
        raise fail(what, 'field "keys" must be a non-empty list')
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise fail(what, f"keys[{index}] must be an object")
    return entries


def kid_of(entry: Mapping[str, Any], what: str, index: int) -> str:
    kid = entry.get("kid")
    if not isinstance(kid, str) or not keys.is_valid_kid(kid):
        raise fail(what, f"keys[{index}].kid must be a key id (1-64 of A-Z a-z 0-9 _ -)")
    return kid


def created_of(entry: Mapping[str, Any], what: str, index: int) -> int:
    created = entry.get("created", 0)
    if isinstance(created, bool) or not isinstance(created, int | float):
        raise fail(what, f"keys[{index}].created must be unix seconds")
    return int(created)


def material_of(entry: Mapping[str, Any], what: str, index: int, size: int) -> bytes:
    text = entry.get("key")
    material = encoding.b64_decode(text) if isinstance(text, str) else None
    if material is None or len(material) != size:
        raise fail(what, f"keys[{index}].key must be standard base64 of {size} bytes")
    return material


def active_of(document: Mapping[str, Any], what: str, kids: Sequence[str]) -> str:
    active = document.get("active")
    if not isinstance(active, str) or active not in kids:
        raise fail(what, 'field "active" must name one of the key ids in "keys"')
    if len(set(kids)) != len(kids):
        raise fail(what, 'the key ids in "keys" must be unique')
    return active
