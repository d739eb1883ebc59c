"""The storage port. Kept small: the Kubernetes implementation comes next and must fit it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from strongroom_core.storage import records


class Storage(Protocol):
    # --- sealed grant records, compare-and-swap -------------------------------------------
    async def get_grant(self, namespace: str, name: str) -> records.GrantRecord | None: ...

    async def list_grants(self, namespace: str, app: str) -> list[records.GrantRecord]: ...

    async def create_grant(self, record: records.GrantRecord) -> records.GrantRecord:
        """Store a new record; returns it with ``version=1``. ``AlreadyExistsError`` if present."""
        ...

    async def replace_grant(
        self, record: records.GrantRecord, expected_version: int
    ) -> records.GrantRecord:
        """Compare-and-swap: write ``record`` only if the stored version is ``expected_version``;
        returns it with the new version. ``ConflictError`` when stale, ``NotFoundError`` when
        absent."""
        ...

    async def delete_grant(
        self, namespace: str, name: str, expected_version: int | None = None
    ) -> None: ...

    # --- documents: compiled policy ("policy") and key material ("keys") -------------------
    async def get_document(
        self, namespace: str, app: str, name: str
    ) -> records.StoredDocument | None:
        """``name`` is ``policy`` or ``keys`` for an App; namespace ``""`` and app ``""`` hold
        global documents (``root-keys``, ``sealing-key``)."""
        ...

    async def put_document(
        self,
        namespace: str,
        app: str,
        name: str,
        body: dict[str, Any],
        expected_version: int | None,
    ) -> records.StoredDocument:
        """Compare-and-swap write; ``expected_version=None`` means create (``AlreadyExistsError``
        if present)."""
        ...

    async def list_documents(self, name: str) -> list[tuple[str, str]]:
        """``(namespace, app)`` of every App holding a document ``name`` (root-key rotation
        uses it to find every App's keys)."""
        ...

    # --- change notification ------------------------------------------------------------
    def watch(self, namespace: str, app: str, since: int = 0) -> AsyncIterator[records.Change]:
        """Every change to the App's grants and documents with ``revision > since``, in order,
        then waits for more. Never loses a change between catching up and waiting."""
        ...

    async def current_revision(self) -> int: ...

    async def check_revision(self, since: int) -> None:
        """Raise ``errors.RevisionGoneError`` when changes after ``since`` can no longer be
        replayed (pruned, or a store that was reset), so the server answers 410 before it
        starts a stream."""
        ...

    # --- audit ----------------------------------------------------------------------------
    async def append_audit(self, events: Sequence[dict[str, Any]]) -> int:
        """Store audit events; an event whose ``id`` is already stored is skipped. Returns how
        many were new."""
        ...

    async def query_audit(self, query: records.AuditQuery) -> list[dict[str, Any]]:
        """Newest first."""
        ...

    async def close(self) -> None: ...
