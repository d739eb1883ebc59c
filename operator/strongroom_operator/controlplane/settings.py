"""Tunables of the control-plane server."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class ControlPlaneSettings:
    heartbeat_seconds: float = 15.0
    """Quiet watch streams send a ``HEARTBEAT`` this often, so clients and proxies can tell a
    live, idle stream from a dead connection."""

    max_body_bytes: int = 1024 * 1024
    """Largest request body accepted (413 above it). 1000 audit events fit comfortably."""

    max_audit_events: int = 1000
    """Most audit events one ``POST /v1/audit`` may carry; the sidecar sends larger buffers in
    batches."""

    max_audit_query_limit: int = 1000
    """Largest ``limit`` accepted by ``GET /v1/audit``."""

    watch_queue_size: int = 500
    """Changes read ahead of a slow watch client; past this, reading the log pauses."""

    snapshot_attempts: int = 5
    """How often a ``since=0`` snapshot is retried to get one taken while nothing was written."""

    shutdown_timeout: float = 5.0
    """Seconds in-flight requests get to finish when the server stops (watch streams end at
    once)."""
