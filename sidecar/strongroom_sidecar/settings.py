"""Sidecar settings: one dataclass, read from ``STRONGROOM_SIDECAR_*`` variables in a pod.

The proxy port is loopback only: the sidecar hands out the App's credentials to whoever can
reach it, so only processes in the pod's network namespace may. The health port serves no
secret and must be reachable by the kubelet and Prometheus, so it binds all interfaces by
default.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from strongroom_core import envsettings

AuditMode = Literal["fail_closed", "drop"]
ENV_PREFIX = "STRONGROOM_SIDECAR_"


SettingsError = envsettings.SettingsError
"""A setting is wrong; the message names the setting (or variable) and what to do."""


@dataclass(frozen=True, slots=True)
class SidecarSettings:
    control_plane_url: str
    """Base URL of the control plane (``https://strongroom-controlplane.strongroom.svc:8443``);
    the protocol paths (``/v1/...``) are appended."""
    namespace: str
    """Namespace of the App this sidecar serves."""
    app: str
    """Name of the App this sidecar serves."""
    caller: str = "pod/unknown"
    """How this sidecar appears in audit as the caller, e.g. ``pod/<name>``."""
    control_plane_token: str | None = field(default=None, repr=False)
    """A fixed bearer token for the control plane (dev mode, tests). Never logged."""
    control_plane_token_file: str | None = None
    """File holding the bearer token (the projected ServiceAccount token). Read on every
    control-plane call so a token the kubelet rotated is used without a restart."""
    control_plane_ca_file: str | None = None
    """CA bundle to verify the control plane's certificate; ``None`` uses the system store."""
    listen_host: str = "127.0.0.1"
    """Proxy bind address. Must be loopback: anything else is refused."""
    proxy_port: int = 15080
    """Proxy port; ``0`` picks a free port (tests), see ``Sidecar.proxy_port``."""
    health_host: str = "0.0.0.0"
    """Health/metrics bind address (kubelet probes and Prometheus scrape the pod IP)."""
    health_port: int = 15081
    """Port of ``/healthz``, ``/readyz`` and ``/metrics``; ``0`` picks a free port."""
    allow_loopback_targets: bool = False
    """Allow ``http://127.0.0.1``/``localhost`` upstreams (dev mode and tests only)."""
    max_concurrency: int = 256
    """Calls in flight at once; more are answered ``503 overloaded`` at once, never queued."""
    upstream_timeout: float = 30.0
    """Seconds the upstream may stay silent (waiting for headers or between body chunks)."""
    upstream_connect_timeout: float = 10.0
    """Seconds to open a connection (TCP and TLS) to the upstream."""
    audit_buffer_size: int = 10000
    """Audit events held (reserved or waiting for delivery) at most."""
    audit_mode: AuditMode = "fail_closed"
    """When the audit buffer is full: ``fail_closed`` answers ``503 audit_unavailable``;
    ``drop`` forwards the call anyway and counts the dropped event in metrics."""
    audit_stdout: bool = True
    """Also print every audit event as one JSON line on stdout."""
    audit_batch_size: int = 100
    """Events per ``POST /v1/audit`` at most. Small batches keep each delivery's work on the
    event loop short (well under a millisecond), at a few more requests per second."""
    audit_flush_interval: float = 1.0
    """Seconds between deliveries when the buffer is not filling up."""
    audit_retry_max: float = 30.0
    """Longest backoff between failed audit deliveries, in seconds."""
    watch_retry_max: float = 30.0
    """Longest backoff between watch reconnects, in seconds."""
    shutdown_grace: float = 25.0
    """Seconds to let in-flight calls finish and audit flush after SIGTERM."""
    instance_id: str = ""
    """This sidecar's id in refresh claims; empty: ``<caller>/<random>``, new on every start,
    so a restarted sidecar never mistakes a claim of its previous life for its own."""
    refresh_timeout: float = 10.0
    """Seconds the provider's token endpoint may take for one refresh."""
    refresh_lease: float = 30.0
    """Seconds a refresh claim lasts. Longer than ``refresh_timeout``, so a holder's token call
    has ended (or timed out) before anyone else may take over; a sidecar killed while holding a
    claim blocks the grant for at most this long."""
    refresh_backoff_initial: float = 1.0
    """First pause after a transient refresh failure (provider 5xx, timeout), in seconds; it
    doubles (with jitter) on every further failure."""
    refresh_backoff_max: float = 60.0
    """Longest pause between refresh attempts after transient failures, in seconds."""
    retry_body_limit: int = 1024 * 1024
    """Request bodies up to this many bytes are held so a call can be retried once after the
    upstream answered 401 and the token was refreshed; larger bodies stream and are not
    retried (the 401 reaches the caller)."""
    jwks_timeout: float = 5.0
    """Seconds one fetch of the App's JWKS (JWT identity) may take."""
    jwks_min_refetch_seconds: float = 30.0
    """Floor between two JWKS fetches, whatever triggers them (an unknown ``kid`` is chosen by
    whoever sends the token, so without a floor random ids would flood the identity provider)."""
    jwks_max_age_seconds: float = 3600.0
    """A JWKS older than this is fetched again on the next lookup (old keys serve meanwhile)."""

    def __post_init__(self) -> None:
        if not self.control_plane_url.startswith(("https://", "http://")):
            raise SettingsError(
                f"control_plane_url: {self.control_plane_url!r} is not an http(s) URL"
            )
        if not self.namespace or not self.app:
            raise SettingsError("namespace and app: both are required")
        if not is_loopback_host(self.listen_host):
            raise SettingsError(
                f"listen_host: {self.listen_host!r} is not a loopback address; the proxy "
                "hands out credentials and only binds 127.0.0.1, ::1 or localhost"
            )
        for name in ("proxy_port", "health_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise SettingsError(f"{name}: {port} is not a port number")
        if self.audit_mode not in ("fail_closed", "drop"):
            raise SettingsError(f"audit_mode: {self.audit_mode!r}; use fail_closed or drop")
        for name in ("max_concurrency", "audit_buffer_size", "audit_batch_size"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name}: must be at least 1")
        for name in (
            "upstream_timeout",
            "upstream_connect_timeout",
            "audit_flush_interval",
            "refresh_timeout",
            "refresh_backoff_initial",
            "refresh_backoff_max",
            "jwks_timeout",
            "jwks_max_age_seconds",
        ):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name}: must be more than 0 seconds")
        if self.refresh_lease > 600:
            raise SettingsError("refresh_lease: at most 600 seconds (the control plane's limit)")
        if self.refresh_lease <= self.refresh_timeout:
            raise SettingsError(
                f"refresh_lease: {self.refresh_lease:g}s must be longer than refresh_timeout "
                f"({self.refresh_timeout:g}s), or a slow refresh could outlive its claim"
            )
        if self.jwks_min_refetch_seconds < 0:
            raise SettingsError("jwks_min_refetch_seconds: must be 0 or more seconds")
        if self.retry_body_limit < 0:
            raise SettingsError("retry_body_limit: must be 0 or more bytes")

    def read_control_plane_token(self) -> str | None:
        """The bearer token for the next control-plane call (file first, re-read each time)."""
        if self.control_plane_token_file:
            return Path(self.control_plane_token_file).read_text().strip()
        return self.control_plane_token

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SidecarSettings:
        """Read ``STRONGROOM_SIDECAR_<FIELD>`` (upper case) for every field; errors name the
        variable."""
        return envsettings.from_env(
            cls, ENV_PREFIX, environ, required=("control_plane_url", "namespace", "app")
        )


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
