"""A tiny JSON Patch (RFC 6902) builder with RFC 6901 pointer escaping (``~`` → ``~0``,
``/`` → ``~1``), so an annotation key like ``strongroom.dev/app`` is one path segment."""

from __future__ import annotations

from typing import Any

Operation = dict[str, Any]


def pointer(*segments: str | int) -> str:
    """``pointer("metadata", "annotations", "a/b")`` → ``/metadata/annotations/a~1b``."""
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in segments)


def add(path: str, value: Any) -> Operation:
    return {"op": "add", "path": path, "value": value}


def append_or_create(
    present: bool, container: tuple[str | int, ...], values: list[Any], *, first: bool = False
) -> list[Operation]:
    """Operations that put ``values`` into the list at ``container``: creating the list when it
    is absent, else adding each at the end (or, with ``first``, at the front in order)."""
    if not values:
        return []
    if not present:
        return [add(pointer(*container), list(values))]
    if first:
        return [add(pointer(*container, i), v) for i, v in enumerate(values)]
    return [add(pointer(*container, "-"), v) for v in values]
