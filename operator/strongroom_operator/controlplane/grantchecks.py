"""Checking a sidecar's grant write-back (``PUT .../grants/{name}``) against the stored grant.

The sidecar owns the credential and its refresh bookkeeping; the operator owns the rest. So a
write-back may change only :data:`SIDECAR_FIELDS`; identity fields can never change, and the
operator's fields must come back as stored.
"""

from __future__ import annotations

import dataclasses
from typing import Any, get_args

from strongroom_core.storage import records
from strongroom_operator.controlplane import bodies, problems

SIDECAR_FIELDS = {
    "sealed": "sealed",
    "state": "state",
    "message": "message",
    "generation": "generation",
    "tokenExpiresAt": "token_expires_at",
    "claimHolder": "claim_holder",
    "claimExpiresAt": "claim_expires_at",
}
"""Wire name → record field of what a write-back may change."""

IDENTITY_FIELDS = {
    "namespace": "namespace",
    "name": "name",
    "uid": "uid",
    "app": "app",
    "provider": "provider",
}

OPERATOR_FIELDS = {
    "scopes": "scopes",
    "grantExpiresAt": "grant_expires_at",
    "sourceDigest": "source_digest",
}

_STATES = get_args(records.GrantState)


def _check_type(field: str, value: Any) -> None:
    """400 when a present field has the wrong JSON type."""
    name = f"grant.{field}"
    if field in ("namespace", "name", "uid", "app", "provider", "sealed", "message"):
        if not isinstance(value, str):
            raise problems.invalid(name, "expected a string")
    elif field == "state":
        if value not in _STATES:
            raise problems.invalid(name, f"must be one of {', '.join(_STATES)}")
    elif field in ("generation", "version"):
        if not bodies.is_int(value) or value < 0:
            raise problems.invalid(name, "expected a non-negative integer")
    elif field in ("tokenExpiresAt", "claimExpiresAt", "grantExpiresAt"):
        if value is not None and not bodies.is_number(value):
            raise problems.invalid(name, "expected unix seconds (a number) or null")
    elif field == "claimHolder":
        if value is not None and not isinstance(value, str):
            raise problems.invalid(name, "expected a string or null")
    elif field == "scopes":
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            raise problems.invalid(name, "expected a list of strings")
    elif field == "sourceDigest":
        if not isinstance(value, str):
            raise problems.invalid(name, "expected a string")
    elif field == "principal":
        if not isinstance(value, dict):
            raise problems.invalid(name, "expected an object with kind and id")
        for part in ("kind", "id"):
            if not isinstance(value.get(part), str):
                raise problems.invalid(f"{name}.{part}", "expected a string")


def parse_replace_request(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """``(grant wire object, expectedVersion)`` of a ``ReplaceGrantRequest``; 400 naming the
    field when malformed."""
    expected = body.get("expectedVersion")
    if expected is None:
        raise problems.invalid("expectedVersion", "required: the version you read")
    if not bodies.is_int(expected) or expected < 1:
        raise problems.invalid("expectedVersion", "expected a positive integer")
    grant = body.get("grant")
    if not isinstance(grant, dict):
        raise problems.invalid("grant", "required: an object (the grant as read, changed)")
    for field in ("namespace", "name", "uid", "app", "provider", "principal", "sealed"):
        if field not in grant:
            raise problems.invalid(f"grant.{field}", "required")
    for field, value in grant.items():
        _check_type(field, value)
    return grant, expected


def apply_write_back(
    stored: records.GrantRecord, wire: dict[str, Any], namespace: str, app: str, name: str
) -> records.GrantRecord:
    """The stored record with the sidecar's changes; 422 naming the first field it may not
    change. Writable fields left out of ``wire`` keep their stored value."""
    path_values = {"namespace": namespace, "app": app, "name": name}
    for wire_field, record_field in IDENTITY_FIELDS.items():
        value = wire[wire_field]
        if value != path_values.get(wire_field, getattr(stored, record_field)):
            raise problems.immutable(
                f"grant.{wire_field}", "immutable: must equal the stored grant's (and the URL's)"
            )
    principal = wire["principal"]
    if (principal["kind"], principal["id"]) != (stored.principal_kind, stored.principal_id):
        raise problems.immutable("grant.principal", "immutable: must equal the stored grant's")
    for wire_field, record_field in OPERATOR_FIELDS.items():
        if wire_field not in wire:
            continue
        value = wire[wire_field]
        current = getattr(stored, record_field)
        if wire_field == "scopes":
            value = tuple(value)
        if value != current:
            raise problems.immutable(
                f"grant.{wire_field}", "set by the operator from the Grant spec; send it as read"
            )
    changes = {
        record_field: wire[wire_field]
        for wire_field, record_field in SIDECAR_FIELDS.items()
        if wire_field in wire
    }
    for field in ("token_expires_at", "claim_expires_at"):
        if changes.get(field) is not None:
            changes[field] = float(changes[field])
    return dataclasses.replace(stored, **changes)
