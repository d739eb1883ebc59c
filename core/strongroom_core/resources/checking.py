"""Check a value against a CRD's structural OpenAPI schema the way the API server does, and
apply its defaults.

Covers what the Strongroom CRDs use: types, required, unknown fields (rejected here, where the
API server would prune them, because a typo in a file should be loud), enums, lengths, item
counts, patterns, the ``uri`` and ``date-time`` formats, ``x-kubernetes-list-type: set`` and
``default``. A ``null`` counts as absent, as it does for the API server. Each
``x-kubernetes-validations`` rule runs through its Python mirror in ``validation``, and only when
the value under it passed the structural checks (the mirrors rely on the types). Transition rules
(those naming ``oldSelf``) are left to ``validation.check_immutable``.

Messages describe the expectation and never repeat the value found.
"""

from __future__ import annotations

import copy
import datetime
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from strongroom_core.resources import errors, validation

_TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "boolean": "a boolean (true or false)",
    "number": "a number",
}
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@dataclass
class Findings:
    """Problems found so far. ``structural`` counts those that are not rule violations: a rule
    is skipped over a value with a structural problem (its mirror relies on the types), but not
    over one whose nested rules failed, as on the API server."""

    errors: list[errors.FieldError] = field(default_factory=list)
    structural: int = 0

    def add(self, path: str, message: str) -> None:
        self.errors.append(errors.FieldError(path, message))
        self.structural += 1


def check(
    value: Any,
    schema: Mapping[str, Any],
    path: str,
    found: Findings,
    options: validation.Options,
) -> Any:
    """Check ``value`` at ``path``, record problems in ``found`` and return a copy with
    defaults applied (the input is never changed)."""
    before = found.structural
    kind = schema.get("type")
    if kind == "object":
        result = _check_object(value, schema, path, found, options)
    elif kind == "array":
        result = _check_array(value, schema, path, found, options)
    else:
        result = _check_scalar(value, schema, path, found)
    if found.structural == before:
        _run_rules(result, schema, path, found, options)
    return result


def parse_date_time(text: str) -> datetime.datetime | None:
    """An RFC 3339 date-time (with a zone) as an aware datetime, or ``None``."""
    if not _DATE_TIME.match(text):
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None


def _wrong_type(value: Any, expected: str, path: str, found: Findings) -> None:
    found.add(path, f"must be {_TYPE_NAMES[expected]}, not {_shape(value)}")


def _shape(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _check_object(
    value: Any,
    schema: Mapping[str, Any],
    path: str,
    found: Findings,
    options: validation.Options,
) -> Any:
    if not isinstance(value, Mapping):
        _wrong_type(value, "object", path, found)
        return value
    if schema.get("x-kubernetes-preserve-unknown-fields") and "properties" not in schema:
        return copy.deepcopy(dict(value))
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    result: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            found.add(path, "field names must be strings")
            continue
        if item is None:
            continue
        child = f"{path}.{key}"
        if key in properties:
            result[key] = check(item, properties[key], child, found, options)
        elif isinstance(extra, Mapping):
            result[key] = check(item, extra, child, found, options)
        else:
            known = ", ".join(sorted(properties)) or "none"
            found.add(child, f"unknown field (known fields: {known})")
    for key, sub in properties.items():
        if key not in result and "default" in sub:
            result[key] = check(copy.deepcopy(sub["default"]), sub, f"{path}.{key}", found, options)
    for key in schema.get("required", ()):
        if key not in result:
            found.add(f"{path}.{key}", "required")
    return result


def _check_array(
    value: Any,
    schema: Mapping[str, Any],
    path: str,
    found: Findings,
    options: validation.Options,
) -> Any:
    if not isinstance(value, list | tuple):
        _wrong_type(value, "array", path, found)
        return value
    items = schema.get("items", {})
    result = [
        check(item, items, f"{path}[{index}]", found, options) for index, item in enumerate(value)
    ]
    if "minItems" in schema and len(result) < schema["minItems"]:
        found.add(path, f"must have at least {schema['minItems']} item(s)")
    if "maxItems" in schema and len(result) > schema["maxItems"]:
        found.add(path, f"must have at most {schema['maxItems']} items")
    if schema.get("x-kubernetes-list-type") == "set":
        seen: list[Any] = []
        for index, item in enumerate(result):
            if item in seen:
                found.add(f"{path}[{index}]", "duplicate entry")
            seen.append(item)
    return result


def _check_scalar(value: Any, schema: Mapping[str, Any], path: str, found: Findings) -> Any:
    kind = schema.get("type")
    if kind == "string":
        if not isinstance(value, str):
            _wrong_type(value, "string", path, found)
        else:
            _check_string(value, schema, path, found)
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            _wrong_type(value, "integer", path, found)
        else:
            if "minimum" in schema and value < schema["minimum"]:
                found.add(path, f"must be at least {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                found.add(path, f"must be at most {schema['maximum']}")
    elif kind == "boolean" and not isinstance(value, bool):
        _wrong_type(value, "boolean", path, found)
    return value


def _check_string(value: str, schema: Mapping[str, Any], path: str, found: Findings) -> None:
    if "enum" in schema:
        if value not in schema["enum"]:
            found.add(path, "must be one of: " + ", ".join(schema["enum"]))
        return
    if "minLength" in schema and len(value) < schema["minLength"]:
        found.add(path, "must not be empty")
        return
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        found.add(path, f"must be at most {schema['maxLength']} characters")
        return
    if "pattern" in schema and not re.search(schema["pattern"], value):
        found.add(path, f"must match the pattern {schema['pattern']}")
        return
    fmt = schema.get("format")
    if fmt == "date-time" and parse_date_time(value) is None:
        found.add(path, "must be an RFC 3339 date-time, e.g. 2030-01-31T12:00:00Z")
    elif fmt == "uri":
        parts = urllib.parse.urlsplit(value)
        if not parts.scheme or not parts.netloc:
            found.add(path, "must be an absolute URL")


def _run_rules(
    value: Any,
    schema: Mapping[str, Any],
    path: str,
    found: Findings,
    options: validation.Options,
) -> None:
    for rule in schema.get("x-kubernetes-validations", ()):
        text = validation.normalize_rule(rule["rule"])
        if "oldSelf" in text:
            continue
        message = validation.mirror(text)(value, options)
        if message is not None:
            found.errors.append(errors.FieldError(path + rule.get("fieldPath", ""), message))
