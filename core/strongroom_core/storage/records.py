"""Value types that cross the storage port and the control-plane protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

GrantState = Literal["Ready", "NeedsReauth", "Revoked", "Expired"]
PrincipalKind = Literal["user", "group", "system", "agent"]
ChangeKind = Literal["grant", "policy", "keys"]


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """The sealed record of one Grant. ``sealed`` is an envelope from ``sealing.envelopes`` opened
    with the App's data key and the grant's binding; nothing here is plaintext secret.

    ``version`` is the compare-and-swap version: assigned by storage, starts at 1, +1 on every
    successful write. ``generation`` counts credentials: +1 each time the sealed credential is
    replaced (refresh, re-import); a 401 handler compares it to avoid double refreshes.
    """

    namespace: str
    name: str
    uid: str
    app: str
    provider: str
    principal_kind: PrincipalKind
    principal_id: str
    sealed: str
    state: GrantState = "Ready"
    message: str = ""
    scopes: tuple[str, ...] = ()
    version: int = 0
    generation: int = 1
    token_expires_at: float | None = None
    """Unix seconds when the access token expires; ``None`` for credentials that do not."""
    grant_expires_at: float | None = None
    """Unix seconds when the Grant itself expires (spec.expiresAt / ttl); ``None`` for never."""
    source_digest: str = ""
    """SHA-256 of the spec value the record was made from, so a re-reconcile of an unchanged
    spec never overwrites a refreshed credential."""
    claim_holder: str | None = None
    """Refresh claim (next issue): who holds it, until when (unix seconds)."""
    claim_expires_at: float | None = None


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A JSON document with a compare-and-swap version (compiled policy, key material)."""

    body: dict[str, Any]
    version: int


@dataclass(frozen=True, slots=True)
class Change:
    """One change in an App's stream. ``revision`` is strictly increasing per store and is the
    cursor a watcher resumes from. ``grant`` is ``None`` when the grant was deleted; ``name`` is
    the grant name (kind ``grant``) or the document name (kinds ``policy`` and ``keys``)."""

    revision: int
    kind: ChangeKind
    namespace: str
    app: str
    name: str
    grant: GrantRecord | None = None
    document: StoredDocument | None = None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    limit: int = 100
    namespace: str | None = None
    app: str | None = None
    grant: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
