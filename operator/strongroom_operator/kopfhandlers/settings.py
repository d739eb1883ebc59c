"""Tunables of the operator; production defaults here, tests pass short ones."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from strongroom_core import podspec


@dataclasses.dataclass(frozen=True, slots=True)
class OperatorSettings:
    namespace: str
    """The control plane's namespace: sealed records, documents, root and sealing keys."""

    kubeconfig: Path | None = None
    """A kubeconfig file; ``None``: ``$KUBECONFIG`` or the pod's ServiceAccount."""

    peering: str | None = "strongroom"
    """kopf peering name for several replicas (only the highest priority acts); ``None`` runs
    standalone (one replica only: two standalone operators would both act)."""

    priority: int = 0
    """Peering priority of this replica; the highest present one handles, the others pause."""

    retry_delay: float = 10.0
    """Seconds before a resource waiting on another (a missing App or Provider) is retried;
    doubled on every retry up to ``max_retry_delay``."""

    max_retry_delay: float = 300.0

    grant_poll_seconds: float = 30.0
    """How often each Grant's sealed record is read to reflect state changes made outside the
    operator (a sidecar marking it NeedsReauth) in the Grant's status."""

    revocation_attempts: int = 5
    """Tries to revoke at the provider when a Grant is deleted; after the last failure the
    Grant is deleted anyway (with a Warning Event) so a dead provider cannot block deletion."""

    revocation_backoff: float = 5.0
    """Seconds between revocation tries."""

    revocation_timeout: float = 10.0
    """Seconds one revocation request may take."""

    allow_loopback_http: bool = False
    """Let https-only URLs point at loopback (tests and local development only)."""

    watch_timeout: float = 300.0
    """kopf's server-side watch timeout, seconds."""

    reconnect_backoff: float = 1.0
    """Seconds kopf waits before reopening a failed watch."""

    liveness_endpoint: str | None = None
    """kopf's health endpoint (``http://0.0.0.0:8080/healthz``) for the kubelet's probes;
    ``None`` serves none."""

    ca_source: tuple[str, str, str] | None = None
    """Where the control plane's CA bundle is: ``(kind, namespace, name)`` with kind
    ``configmap`` or ``secret`` and the key ``ca.crt``. ``None`` publishes no CA ConfigMaps
    (trust-manager or the user does it)."""

    ca_configmap: str = podspec.CA_CONFIGMAP_NAME
    """The ConfigMap (key ``ca.crt``) published into every namespace that has an App; the
    webhook mounts it into each injected sidecar."""

    ca_check_seconds: float = 60.0
    """How often each App's namespace is checked against the current CA (a renewed CA reaches
    every namespace within about this time)."""
