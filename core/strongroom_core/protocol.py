"""Wire types of the control-plane protocol (see docs/control-plane-protocol.md).

JSON field names are camelCase on the wire; these helpers convert the storage records.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict, cast

from strongroom_core.storage import records

SIDECAR_PROTOCOL_VERSION = "v1"
CONTROL_PLANE_PREFIX = "/v1"

WatchEventType = Literal["GRANT", "GRANT_DELETED", "POLICY", "KEYS", "SYNCED", "HEARTBEAT"]


class GrantWire(TypedDict):
    namespace: str
    name: str
    uid: str
    app: str
    provider: str
    principal: dict[str, str]
    sealed: str
    state: str
    message: str
    scopes: list[str]
    version: int
    generation: int
    tokenExpiresAt: float | None
    grantExpiresAt: float | None
    sourceDigest: str
    claimHolder: str | None
    claimExpiresAt: float | None


class WatchEvent(TypedDict):
    type: WatchEventType
    revision: int
    grant: NotRequired[GrantWire]
    name: NotRequired[str]
    policy: NotRequired[dict[str, Any]]


class KeyWire(TypedDict):
    kid: str
    key: str
    """base64 of the 32-byte App data key."""
    active: bool


class KeysResponse(TypedDict):
    keys: list[KeyWire]


class ReplaceGrantRequest(TypedDict):
    grant: GrantWire
    expectedVersion: int


class AuditIngestRequest(TypedDict):
    events: list[dict[str, Any]]


class AuditIngestResponse(TypedDict):
    accepted: int
    stored: int


class SealingKeyResponse(TypedDict):
    kid: str
    publicKey: str
    """PEM of the control plane's X25519 sealing public key."""


class Problem(TypedDict):
    type: str
    title: str
    status: int
    detail: str
    code: str


def problem(status: int, code: str, title: str, detail: str) -> Problem:
    return {
        "type": f"https://strongroom.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }


def grant_to_wire(record: records.GrantRecord) -> GrantWire:
    return {
        "namespace": record.namespace,
        "name": record.name,
        "uid": record.uid,
        "app": record.app,
        "provider": record.provider,
        "principal": {"kind": record.principal_kind, "id": record.principal_id},
        "sealed": record.sealed,
        "state": record.state,
        "message": record.message,
        "scopes": list(record.scopes),
        "version": record.version,
        "generation": record.generation,
        "tokenExpiresAt": record.token_expires_at,
        "grantExpiresAt": record.grant_expires_at,
        "sourceDigest": record.source_digest,
        "claimHolder": record.claim_holder,
        "claimExpiresAt": record.claim_expires_at,
    }


class WireFormatError(ValueError):
    """A protocol document is malformed; the message names the field."""


def grant_from_wire(wire: Any) -> records.GrantRecord:
    if not isinstance(wire, dict):
        raise WireFormatError("grant: expected an object")
    try:
        principal = wire["principal"]
        return records.GrantRecord(
            namespace=str(wire["namespace"]),
            name=str(wire["name"]),
            uid=str(wire["uid"]),
            app=str(wire["app"]),
            provider=str(wire["provider"]),
            principal_kind=cast(records.PrincipalKind, str(principal["kind"])),
            principal_id=str(principal["id"]),
            sealed=str(wire["sealed"]),
            state=cast(records.GrantState, str(wire.get("state", "Ready"))),
            message=str(wire.get("message", "")),
            scopes=tuple(str(s) for s in wire.get("scopes", ())),
            version=int(wire.get("version", 0)),
            generation=int(wire.get("generation", 1)),
            token_expires_at=_optional_float(wire.get("tokenExpiresAt")),
            grant_expires_at=_optional_float(wire.get("grantExpiresAt")),
            source_digest=str(wire.get("sourceDigest", "")),
            claim_holder=None if wire.get("claimHolder") is None else str(wire["claimHolder"]),
            claim_expires_at=_optional_float(wire.get("claimExpiresAt")),
        )
    except KeyError as e:
        raise WireFormatError(f"grant.{e.args[0]}: required") from None
    except (TypeError, ValueError) as e:
        raise WireFormatError(f"grant: {e}") from None


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
