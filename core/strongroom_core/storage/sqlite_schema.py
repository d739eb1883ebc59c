"""The SQLite schema and connection set-up for :mod:`strongroom_core.storage.sqlite`.

One file holds everything: grants and documents with a compare-and-swap ``version``, the change
log every write appends to in the same transaction, and the audit events. WAL mode lets watchers
in other processes read while one process writes; the busy timeout makes concurrent writers from
several processes queue instead of failing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = 1

BUSY_TIMEOUT_MS = 10_000
"""How long a write waits for another process's transaction before failing."""

_DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS grants (
    namespace TEXT NOT NULL,
    name      TEXT NOT NULL,
    app       TEXT NOT NULL,
    version   INTEGER NOT NULL,
    record    TEXT NOT NULL,
    PRIMARY KEY (namespace, name)
);
CREATE INDEX IF NOT EXISTS grants_by_app ON grants (namespace, app, name);
CREATE TABLE IF NOT EXISTS documents (
    namespace TEXT NOT NULL,
    app       TEXT NOT NULL,
    name      TEXT NOT NULL,
    version   INTEGER NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (namespace, app, name)
);
CREATE TABLE IF NOT EXISTS changes (
    revision  INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    app       TEXT NOT NULL,
    kind      TEXT NOT NULL,
    name      TEXT NOT NULL,
    payload   TEXT
);
CREATE INDEX IF NOT EXISTS changes_by_app ON changes (namespace, app, revision);
CREATE TABLE IF NOT EXISTS audit (
    id         TEXT PRIMARY KEY,
    time       REAL NOT NULL,
    namespace  TEXT NOT NULL,
    app        TEXT NOT NULL,
    grant_name TEXT NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (time DESC);
CREATE INDEX IF NOT EXISTS audit_by_app ON audit (namespace, app, time DESC);
"""

PRUNED_THROUGH = "pruned_through"
"""``meta`` key: every change with a revision at or below this one has been pruned."""


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the database file and make sure the schema is there.

    ``isolation_level=None``: transactions are explicit (``BEGIN IMMEDIATE`` for writes), so a
    read never silently holds a write lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    for statement in _DDL.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES (?, 0), ('schema_version', ?)",
        (PRUNED_THROUGH, SCHEMA_VERSION),
    )
    return conn
