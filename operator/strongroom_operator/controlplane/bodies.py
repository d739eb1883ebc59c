"""Reading request bodies and query parameters, with errors that name the field."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from strongroom_operator.controlplane import problems


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object. The size limit is the application's ``client_max_size``
    (413 above it)."""
    raw = await request.read()
    if not raw:
        raise problems.invalid("body", "empty; send a JSON object")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise problems.invalid(
            "body", f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})"
        ) from None
    except UnicodeDecodeError:
        raise problems.invalid("body", "not UTF-8 encoded JSON") from None
    if not isinstance(value, dict):
        raise problems.invalid("body", "expected a JSON object")
    return value


def query_int(request: web.Request, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise problems.invalid(name, f"expected an integer, got {raw[:20]!r}") from None
    if not minimum <= value <= maximum:
        raise problems.invalid(name, f"must be between {minimum} and {maximum}")
    return value


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
