"""SQLite implementation of the storage port, for dev mode, tests and a single-replica control
plane with a volume.

All database work runs on one dedicated thread (a one-worker executor owning the connection),
so the event loop never blocks on disk and writes from this process are serialised; writes from
other processes on the same file queue on SQLite's lock (WAL mode, busy timeout).

Watching reads the change log from a cursor, remembers the last revision, then waits and reads
again; it never subscribes and then snapshots, so a change committed at any moment is read by
the next pass. A write in this process wakes its watchers at once; changes written by other
processes are found by polling every ``poll_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from strongroom_core.storage import errors, ports, records, sqlite_ops, sqlite_schema

T = TypeVar("T")

DEFAULT_MAX_CHANGES = 100_000
"""How many changes the log keeps at least (it is pruned in steps of a tenth of this); a
watcher further behind gets ``RevisionGoneError``."""

DEFAULT_POLL_INTERVAL = 0.5
"""Seconds between log reads while waiting, to see other processes' writes."""

WATCH_BATCH = 500


class SqliteStorage:
    """The storage port over one SQLite file. ``await open()`` before use, ``await close()``
    after (or use ``async with``)."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_changes: int = DEFAULT_MAX_CHANGES,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        if max_changes < 1:
            raise ValueError("max_changes must be at least 1")
        self.path = Path(path)
        self.max_changes = max_changes
        self.poll_interval = poll_interval
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._written: asyncio.Event | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"SqliteStorage({str(self.path)!r})"

    async def open(self) -> None:
        """Create the file and schema if needed (WAL mode, busy timeout)."""
        if self._executor is not None:
            return
        self._closed = False
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="strongroom-sqlite"
        )
        self._written = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._conn = await loop.run_in_executor(self._executor, sqlite_schema.connect, self.path)

    async def close(self) -> None:
        if self._executor is None:
            return
        self._closed = True
        self._notify()
        executor, conn = self._executor, self._conn
        self._executor, self._conn = None, None
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(executor, conn.close)
        executor.shutdown(wait=True)

    async def __aenter__(self) -> SqliteStorage:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None or self._conn is None:
            raise errors.StorageError(f"{self!r} is not open: await open() first")
        call = functools.partial(fn, self._conn, *args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await self._run(fn, self.max_changes, *args)
        finally:
            # Also after a failed write: waking a watcher costs one read, missing one costs
            # a poll interval.
            self._notify()

    def _notify(self) -> None:
        if self._written is not None:
            written, self._written = self._written, asyncio.Event()
            written.set()

    # --- grants -------------------------------------------------------------------------

    async def get_grant(self, namespace: str, name: str) -> records.GrantRecord | None:
        return await self._run(sqlite_ops.get_grant, namespace, name)

    async def list_grants(self, namespace: str, app: str) -> list[records.GrantRecord]:
        return await self._run(sqlite_ops.list_grants, namespace, app)

    async def create_grant(self, record: records.GrantRecord) -> records.GrantRecord:
        return await self._write(sqlite_ops.create_grant, record)

    async def replace_grant(
        self, record: records.GrantRecord, expected_version: int
    ) -> records.GrantRecord:
        return await self._write(sqlite_ops.replace_grant, record, expected_version)

    async def delete_grant(
        self, namespace: str, name: str, expected_version: int | None = None
    ) -> None:
        """``NotFoundError`` when absent; ``ConflictError`` when ``expected_version`` is given
        and stale."""
        await self._write(sqlite_ops.delete_grant, namespace, name, expected_version)

    # --- documents ----------------------------------------------------------------------

    async def get_document(
        self, namespace: str, app: str, name: str
    ) -> records.StoredDocument | None:
        return await self._run(sqlite_ops.get_document, namespace, app, name)

    async def put_document(
        self,
        namespace: str,
        app: str,
        name: str,
        body: dict[str, Any],
        expected_version: int | None,
    ) -> records.StoredDocument:
        return await self._write(
            sqlite_ops.put_document, namespace, app, name, body, expected_version
        )

    async def list_documents(self, name: str) -> list[tuple[str, str]]:
        """``(namespace, app)`` of every App holding a document ``name`` (global documents
        excluded); lets root-key rotation find every App's keys (``rotation.DocumentLister``)."""
        return await self._run(sqlite_ops.list_documents, name)

    # --- changes ------------------------------------------------------------------------

    async def current_revision(self) -> int:
        return await self._run(sqlite_ops.current_revision)

    async def check_revision(self, since: int) -> None:
        """Raise ``RevisionGoneError`` unless a watch from ``since`` can be served from the
        log (not pruned, not in the future of a store that was reset). Lets a server answer
        410 before it starts streaming."""
        await self._run(sqlite_ops.check_revision, since)

    async def watch(
        self, namespace: str, app: str, since: int = 0
    ) -> AsyncIterator[records.Change]:
        """Every change of the App after ``since``, in order, then waits for more; ends when
        the storage is closed. ``RevisionGoneError`` when the log no longer reaches
        ``since``."""
        cursor = since
        while not self._closed:
            written = self._written  # taken before the read: a write after it sets this event
            changes, next_cursor = await self._run(
                sqlite_ops.read_changes, namespace, app, cursor, WATCH_BATCH
            )
            for change in changes:
                yield change
            cursor = next_cursor
            if len(changes) == WATCH_BATCH or written is None:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(written.wait(), self.poll_interval)

    # --- audit --------------------------------------------------------------------------

    async def append_audit(self, events: Sequence[dict[str, Any]]) -> int:
        missing = [index for index, event in enumerate(events) if not event.get("id")]
        if missing:
            raise ValueError(f"audit events {missing}: every event needs an 'id'")
        return await self._run(sqlite_ops.append_audit, list(events))

    async def query_audit(self, query: records.AuditQuery) -> list[dict[str, Any]]:
        return await self._run(sqlite_ops.query_audit, query)


def _conforms_to_the_port(storage: SqliteStorage) -> ports.Storage:
    """Never called: makes mypy check that ``SqliteStorage`` implements ``ports.Storage``."""
    return storage
