"""How :mod:`strongroom_core.storage.sqlite` turns records into JSON columns and back.

Records are stored whole as JSON rather than one column per field: the record type grows with
the next issues, and old rows must keep loading (unknown keys are dropped, missing keys take the
dataclass default).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, cast

from strongroom_core.storage import records

_GRANT_FIELDS = frozenset(f.name for f in dataclasses.fields(records.GrantRecord))


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def grant_to_json(record: records.GrantRecord) -> str:
    return dumps(dataclasses.asdict(record))


def grant_from_json(text: str) -> records.GrantRecord:
    raw = cast(dict[str, Any], json.loads(text))
    fields = {key: value for key, value in raw.items() if key in _GRANT_FIELDS}
    fields["scopes"] = tuple(fields.get("scopes", ()))
    return records.GrantRecord(**fields)


def document_to_json(document: records.StoredDocument) -> str:
    return dumps({"body": document.body, "version": document.version})


def document_from_json(text: str) -> records.StoredDocument:
    raw = cast(dict[str, Any], json.loads(text))
    return records.StoredDocument(body=raw["body"], version=int(raw["version"]))


def change_from_row(
    revision: int, namespace: str, app: str, kind: str, name: str, payload: str | None
) -> records.Change:
    """A ``changes`` row as a :class:`records.Change`; a grant change without payload is a
    deletion."""
    change_kind = cast(records.ChangeKind, kind)
    if payload is None:
        return records.Change(revision, change_kind, namespace, app, name)
    if change_kind == "grant":
        grant = grant_from_json(payload)
        return records.Change(revision, change_kind, namespace, app, name, grant=grant)
    document = document_from_json(payload)
    return records.Change(revision, change_kind, namespace, app, name, document=document)


def loads_object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("stored JSON is not an object")
    return cast(dict[str, Any], value)
