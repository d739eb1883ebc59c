"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902, via ``jsonpatch``) and a
strategic merge patch good enough for what kopf and kubectl send.

The strategic merge is a merge patch that merges lists of objects keyed by ``name`` (containers,
ports, env) and unions ``metadata.finalizers``; the ``$patch``/``$retainKeys`` directives are
not understood. Server-side apply is refused with 415, as an old API server would.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from tests.kube import errors

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value)
    return result


def _strategic(target: Any, patch: Any, path: tuple[str, ...]) -> Any:
    if isinstance(patch, list) and isinstance(target, list):
        if path == ("metadata", "finalizers"):
            return target + [f for f in patch if f not in target]
        if all(isinstance(i, dict) and "name" in i for i in [*target, *patch]):
            merged = {item["name"]: copy.deepcopy(item) for item in target}
            for item in patch:
                merged[item["name"]] = _strategic(merged.get(item["name"]), item, path)
            return list(merged.values())
        return copy.deepcopy(patch)
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _strategic(result.get(key), value, (*path, key))
    return result


def apply(content_type: str, target: dict[str, Any], body: Any) -> dict[str, Any]:
    """The patched object; 415 for an unknown patch type, 422 when a JSON patch fails."""
    kind = content_type.split(";")[0].strip()
    if kind == MERGE:
        result = merge(target, body)
    elif kind == STRATEGIC:
        result = _strategic(target, body, ())
    elif kind == JSON_PATCH:
        if not isinstance(body, list):
            raise errors.bad_request("a JSON patch must be a list of operations")
        try:
            result = jsonpatch.apply_patch(target, body)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as e:
            raise errors.ApiError(422, "Invalid", f"the server rejected our request: {e}") from e
    else:
        raise errors.unsupported_media_type(content_type)
    if not isinstance(result, dict):
        raise errors.bad_request("the patched object is not a JSON object")
    return result
