"""The synchronous half of :mod:`strongroom_core.storage.sqlite`: one function per operation,
each one transaction, always run on the storage's single database thread.

Every grant or App-document write appends to ``changes`` inside the same ``BEGIN IMMEDIATE``
transaction, so a revision exists if and only if its write committed, and revisions come out
strictly increasing (``AUTOINCREMENT`` never reuses a number, even after pruning).
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from strongroom_core.storage import errors, records, sqlite_codec, sqlite_schema

WATCHED_DOCUMENTS = {"policy": "policy", "keys": "keys"}
"""App documents whose writes are changes a watcher sees, by document name → change kind.
Global documents (namespace and app ``""``) are never in an App's stream."""

_AUDIT_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@contextmanager
def _write(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def _read(conn: sqlite3.Connection) -> Iterator[None]:
    """A read transaction: in WAL mode every statement inside sees one snapshot."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def _log_change(
    conn: sqlite3.Connection,
    max_changes: int,
    namespace: str,
    app: str,
    kind: str,
    name: str,
    payload: str | None,
) -> None:
    cursor = conn.execute(
        "INSERT INTO changes (namespace, app, kind, name, payload) VALUES (?, ?, ?, ?, ?)",
        (namespace, app, kind, name, payload),
    )
    revision = cursor.lastrowid
    assert revision is not None
    horizon = revision - max_changes
    pruned = _pruned_through(conn)
    # Prune in steps of a tenth of the log so an ordinary write does not pay a DELETE.
    if horizon - pruned >= max(1, max_changes // 10):
        conn.execute("DELETE FROM changes WHERE revision <= ?", (horizon,))
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = ?", (horizon, sqlite_schema.PRUNED_THROUGH)
        )


def _pruned_through(conn: sqlite3.Connection) -> int:
    row = conn.execute(
        "SELECT value FROM meta WHERE key = ?", (sqlite_schema.PRUNED_THROUGH,)
    ).fetchone()
    return int(row[0]) if row else 0


def _newest_revision(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
    return int(row[0]) if row else 0


# --- grants ---------------------------------------------------------------------------------


def get_grant(conn: sqlite3.Connection, namespace: str, name: str) -> records.GrantRecord | None:
    row = conn.execute(
        "SELECT record FROM grants WHERE namespace = ? AND name = ?", (namespace, name)
    ).fetchone()
    return None if row is None else sqlite_codec.grant_from_json(row[0])


def list_grants(conn: sqlite3.Connection, namespace: str, app: str) -> list[records.GrantRecord]:
    rows = conn.execute(
        "SELECT record FROM grants WHERE namespace = ? AND app = ? ORDER BY name",
        (namespace, app),
    ).fetchall()
    return [sqlite_codec.grant_from_json(row[0]) for row in rows]


def create_grant(
    conn: sqlite3.Connection, max_changes: int, record: records.GrantRecord
) -> records.GrantRecord:
    stored = dataclasses.replace(record, version=1)
    payload = sqlite_codec.grant_to_json(stored)
    with _write(conn):
        try:
            conn.execute(
                "INSERT INTO grants (namespace, name, app, version, record) VALUES (?, ?, ?, ?, ?)",
                (stored.namespace, stored.name, stored.app, 1, payload),
            )
        except sqlite3.IntegrityError:
            raise errors.AlreadyExistsError(
                f"grant {record.namespace}/{record.name} already exists"
            ) from None
        _log_change(conn, max_changes, stored.namespace, stored.app, "grant", stored.name, payload)
    return stored


def replace_grant(
    conn: sqlite3.Connection,
    max_changes: int,
    record: records.GrantRecord,
    expected_version: int,
) -> records.GrantRecord:
    what = f"grant {record.namespace}/{record.name}"
    stored = dataclasses.replace(record, version=expected_version + 1)
    payload = sqlite_codec.grant_to_json(stored)
    with _write(conn):
        row = conn.execute(
            "SELECT app, version FROM grants WHERE namespace = ? AND name = ?",
            (record.namespace, record.name),
        ).fetchone()
        if row is None:
            raise errors.NotFoundError(f"{what} does not exist")
        old_app, version = str(row[0]), int(row[1])
        if version != expected_version:
            raise errors.ConflictError(what, expected_version, version)
        cursor = conn.execute(
            "UPDATE grants SET app = ?, version = ?, record = ?"
            " WHERE namespace = ? AND name = ? AND version = ?",
            (stored.app, stored.version, payload, record.namespace, record.name, version),
        )
        assert cursor.rowcount == 1  # the row was read inside this write transaction
        if old_app != stored.app:
            # The grant left the old App's stream: its watchers must drop it.
            _log_change(conn, max_changes, record.namespace, old_app, "grant", record.name, None)
        _log_change(conn, max_changes, stored.namespace, stored.app, "grant", stored.name, payload)
    return stored


def delete_grant(
    conn: sqlite3.Connection,
    max_changes: int,
    namespace: str,
    name: str,
    expected_version: int | None,
) -> None:
    what = f"grant {namespace}/{name}"
    with _write(conn):
        row = conn.execute(
            "SELECT app, version FROM grants WHERE namespace = ? AND name = ?", (namespace, name)
        ).fetchone()
        if row is None:
            raise errors.NotFoundError(f"{what} does not exist")
        app, version = str(row[0]), int(row[1])
        if expected_version is not None and version != expected_version:
            raise errors.ConflictError(what, expected_version, version)
        conn.execute("DELETE FROM grants WHERE namespace = ? AND name = ?", (namespace, name))
        _log_change(conn, max_changes, namespace, app, "grant", name, None)


# --- documents ------------------------------------------------------------------------------


def get_document(
    conn: sqlite3.Connection, namespace: str, app: str, name: str
) -> records.StoredDocument | None:
    row = conn.execute(
        "SELECT body, version FROM documents WHERE namespace = ? AND app = ? AND name = ?",
        (namespace, app, name),
    ).fetchone()
    if row is None:
        return None
    return records.StoredDocument(body=sqlite_codec.loads_object(row[0]), version=int(row[1]))


def list_documents(conn: sqlite3.Connection, name: str) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT namespace, app FROM documents WHERE name = ? AND (namespace != '' OR app != '')"
        " ORDER BY namespace, app",
        (name,),
    ).fetchall()
    return [(str(row[0]), str(row[1])) for row in rows]


def put_document(
    conn: sqlite3.Connection,
    max_changes: int,
    namespace: str,
    app: str,
    name: str,
    body: dict[str, Any],
    expected_version: int | None,
) -> records.StoredDocument:
    what = f"document {name!r} of {namespace or '<global>'}/{app or '<global>'}"
    text = sqlite_codec.dumps(body)
    with _write(conn):
        row = conn.execute(
            "SELECT version FROM documents WHERE namespace = ? AND app = ? AND name = ?",
            (namespace, app, name),
        ).fetchone()
        if expected_version is None:
            if row is not None:
                raise errors.AlreadyExistsError(f"{what} already exists")
            version = 1
            conn.execute(
                "INSERT INTO documents (namespace, app, name, version, body)"
                " VALUES (?, ?, ?, ?, ?)",
                (namespace, app, name, version, text),
            )
        else:
            if row is None:
                raise errors.NotFoundError(f"{what} does not exist")
            if int(row[0]) != expected_version:
                raise errors.ConflictError(what, expected_version, int(row[0]))
            version = expected_version + 1
            conn.execute(
                "UPDATE documents SET version = ?, body = ?"
                " WHERE namespace = ? AND app = ? AND name = ?",
                (version, text, namespace, app, name),
            )
        stored = records.StoredDocument(body=body, version=version)
        kind = WATCHED_DOCUMENTS.get(name)
        if kind is not None and (namespace or app):
            payload = sqlite_codec.document_to_json(stored)
            _log_change(conn, max_changes, namespace, app, kind, name, payload)
    return stored


# --- changes --------------------------------------------------------------------------------


def current_revision(conn: sqlite3.Connection) -> int:
    return _newest_revision(conn)


def check_revision(conn: sqlite3.Connection, since: int) -> None:
    """Raise :class:`errors.RevisionGoneError` unless the log holds every change after
    ``since``."""
    with _read(conn):
        _check_revision(conn, since)


def _check_revision(conn: sqlite3.Connection, since: int) -> int:
    pruned, newest = _pruned_through(conn), _newest_revision(conn)
    if since < pruned or since > newest:
        raise errors.RevisionGoneError(since, pruned, newest)
    return newest


def read_changes(
    conn: sqlite3.Connection, namespace: str, app: str, since: int, limit: int
) -> tuple[list[records.Change], int]:
    """The App's changes after ``since`` (at most ``limit``), and the cursor to read from next.

    The cursor is the newest revision of the whole store when the batch is not full: the App
    has no change up to there, so a quiet App's watcher moves along with the log instead of
    falling behind the pruning horizon.
    """
    with _read(conn):
        newest = _check_revision(conn, since)
        rows = conn.execute(
            "SELECT revision, namespace, app, kind, name, payload FROM changes"
            " WHERE namespace = ? AND app = ? AND revision > ? ORDER BY revision LIMIT ?",
            (namespace, app, since, limit),
        ).fetchall()
    changes = [sqlite_codec.change_from_row(*row) for row in rows]
    if len(changes) == limit:
        return changes, changes[-1].revision
    return changes, newest


# --- audit ----------------------------------------------------------------------------------


def append_audit(conn: sqlite3.Connection, events: Sequence[dict[str, Any]]) -> int:
    stored = 0
    with _write(conn):
        for event in events:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO audit (id, time, namespace, app, grant_name, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    str(event["id"]),
                    float(event.get("time", 0.0)),
                    str(event.get("namespace", "")),
                    str(event.get("app", "")),
                    str(event.get("grant", "")),
                    sqlite_codec.dumps(event),
                ),
            )
            stored += cursor.rowcount
    return stored


def query_audit(conn: sqlite3.Connection, query: records.AuditQuery) -> list[dict[str, Any]]:
    where: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("namespace", query.namespace),
        ("app", query.app),
        ("grant_name", query.grant),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    for field, value in sorted(query.extra.items()):
        if not _AUDIT_FIELD.fullmatch(field):
            raise ValueError(f"audit filter {field!r}: not a field name")
        where.append("json_extract(body, ?) = ?")
        params.extend((f"$.{field}", value))
    sql = "SELECT body FROM audit"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY time DESC, rowid DESC LIMIT ?"
    params.append(max(0, query.limit))
    return [sqlite_codec.loads_object(row[0]) for row in conn.execute(sql, params).fetchall()]
