"""Label selectors (``=``, ``==``, ``!=``, ``in``, ``notin``, exists, ``!`` not exists) and field
selectors (``metadata.name``, ``metadata.namespace``), parsed as the API server does; an
unknown field is refused with 400 like the real one."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.kube import errors

Matcher = Callable[[dict[str, Any]], bool]

_SET = re.compile(r"^\s*(!?)\s*([A-Za-z0-9./_-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_EQ = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*$")
FIELDS = {"metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace")}


def _split(selector: str) -> list[str]:
    """Split on commas outside parentheses (``a in (x,y),b`` is two requirements)."""
    parts, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def _requirement(text: str) -> Callable[[dict[str, str]], bool]:
    equality = _EQ.match(text)
    if equality:
        key, op, value = equality.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    found = _SET.match(text)
    if not found:
        raise errors.bad_request(f"unable to parse requirement: {text!r}")
    negated, key, op, values_text = found.groups()
    if op is None:
        if negated:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    if negated:
        raise errors.bad_request(f"unable to parse requirement: {text!r}")
    values = {v.strip() for v in values_text.split(",") if v.strip()}
    if op == "in":
        return lambda labels: labels.get(key) in values
    return lambda labels: labels.get(key) not in values


def label_selector(selector: str | None) -> Matcher:
    if not selector:
        return lambda obj: True
    requirements = [_requirement(part) for part in _split(selector)]

    def matches(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(requirement(labels) for requirement in requirements)

    return matches


def field_selector(selector: str | None) -> Matcher:
    if not selector:
        return lambda obj: True
    checks: list[Matcher] = []
    for part in _split(selector):
        found = _EQ.match(part)
        if not found:
            raise errors.bad_request(f"invalid field selector: {part!r}")
        field, op, value = found.groups()
        if field not in FIELDS:
            raise errors.bad_request(
                f'field label not supported: {field} (use "metadata.name" or "metadata.namespace")'
            )
        section, key = FIELDS[field]
        checks.append(_field_check(section, key, value, op == "!="))

    def matches(obj: dict[str, Any]) -> bool:
        return all(check(obj) for check in checks)

    return matches


def _field_check(section: str, key: str, value: str, negated: bool) -> Matcher:
    def check(obj: dict[str, Any]) -> bool:
        equal = ((obj.get(section) or {}).get(key) or "") == value
        return equal != negated

    return check
