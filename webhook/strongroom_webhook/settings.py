"""Webhook settings: one dataclass, read from ``STRONGROOM_WEBHOOK_*`` variables.

Certificate lifetimes are in seconds. The defaults rotate the serving certificate monthly and the
CA yearly; the overlap is how long a new CA sits in the ``caBundle`` before any replica serves a
certificate it signed (and how long an old CA stays after the switch), which covers API servers
picking up the new bundle and replicas picking up the new certificate from the shared Secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from strongroom_core import envsettings, podspec

TlsMode = Literal["self-managed", "cert-manager", "secret"]
ENV_PREFIX = "STRONGROOM_WEBHOOK_"
DAY = 86400.0


SettingsError = envsettings.SettingsError
"""A setting is wrong; the message names the setting (or variable) and what to do."""


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    namespace: str
    """The webhook's own namespace: home of the self-managed TLS Secret, and never injected."""
    sidecar_image: str = "strongroom/sidecar:0.1.0"
    """Image of the injected sidecar (the control plane also checks pods carry it)."""
    sidecar_image_pull_policy: str = "IfNotPresent"
    """``imagePullPolicy`` of the injected sidecar."""
    control_plane_url: str = "https://strongroom-controlplane.strongroom-system.svc:8443"
    """Base URL of the control plane, handed to every sidecar."""
    control_plane_ca_configmap: str = podspec.CA_CONFIGMAP_NAME
    """ConfigMap in the pod's namespace whose ``ca.crt`` the sidecar trusts for the control plane;
    empty: no CA volume, the sidecar uses the image's system store."""
    token_expiration_seconds: int = podspec.TOKEN_EXPIRATION_SECONDS
    """Lifetime of the projected token mounted into the sidecar (at least 600, the API minimum)."""
    listen_host: str = "0.0.0.0"
    """HTTPS bind address."""
    port: int = 8443
    """HTTPS port; ``0`` picks a free one (tests)."""
    tls_mode: TlsMode = "self-managed"
    """``self-managed`` (the webhook keeps its own CA in ``tls_secret``), ``cert-manager`` or
    ``secret`` (a mounted ``tls.crt``/``tls.key`` in ``cert_dir``, reloaded when it changes)."""
    cert_dir: str = ""
    """cert-manager/secret: the mounted Secret's folder (``tls.crt``, ``tls.key``). In every mode
    the pair in use is also copied into a private temporary folder: mount a writable /tmp."""
    tls_secret: str = "strongroom-webhook-tls"  # noqa: S105  (a name, not a secret)
    """self-managed: the one Secret (in ``namespace``) all replicas share CA and cert through."""
    webhook_configuration: str = "strongroom-webhook"
    """self-managed: the MutatingWebhookConfiguration whose ``caBundle`` the webhook updates."""
    service_name: str = "strongroom-webhook"
    """The Service in front of the webhook; the serving certificate names its DNS forms."""
    ca_validity_seconds: float = 365 * DAY
    """Lifetime of a self-managed CA."""
    ca_renew_before_seconds: float = 30 * DAY
    """A new CA is made when the current one has less than this left."""
    cert_validity_seconds: float = 30 * DAY
    """Lifetime of a self-managed serving certificate (cut to its CA's)."""
    cert_renew_before_seconds: float = 10 * DAY
    """A new serving certificate is made when the current one has less than this left."""
    overlap_seconds: float = 3600.0
    """How long a new CA is in the bundle before it signs the served certificate, and how long
    the old CA stays after."""
    check_interval_seconds: float = 60.0
    """How often the Secret (self-managed) or the mounted files are checked for changes."""
    version_refresh_seconds: float = 600.0
    """How often the API server's version is read again (it can be upgraded under us)."""
    api_timeout_seconds: float = 5.0
    """Per request to the API server (App reads during admission must beat the webhook timeout)."""
    kubeconfig: str = ""
    """A kubeconfig file (tests, running outside a cluster); empty: the pod's ServiceAccount."""

    def __post_init__(self) -> None:
        if not self.namespace:
            raise SettingsError("namespace: required (the webhook's own namespace)")
        if self.tls_mode not in get_args(TlsMode):
            raise SettingsError(
                f"tls_mode: {self.tls_mode!r}; use self-managed, cert-manager or secret"
            )
        if self.tls_mode != "self-managed" and not self.cert_dir:
            raise SettingsError(
                f"cert_dir: required in tls_mode {self.tls_mode} (tls.crt, tls.key)"
            )
        if not self.control_plane_url.startswith(("https://", "http://")):
            raise SettingsError(f"control_plane_url: {self.control_plane_url!r} is not a URL")
        if not 600 <= self.token_expiration_seconds <= 86400 * 2:
            raise SettingsError("token_expiration_seconds: between 600 and 172800")
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port: {self.port} is not a port number")
        if self.ca_renew_before_seconds <= 2 * self.overlap_seconds:
            raise SettingsError(
                "ca_renew_before_seconds: must be more than twice overlap_seconds, so a rotation "
                "(new CA published, then used, then the old one dropped) ends before expiry"
            )
        if self.ca_renew_before_seconds >= self.ca_validity_seconds:
            raise SettingsError("ca_renew_before_seconds: must be less than ca_validity_seconds")
        if self.cert_renew_before_seconds >= self.cert_validity_seconds:
            raise SettingsError(
                "cert_renew_before_seconds: must be less than cert_validity_seconds"
            )
        if self.cert_renew_before_seconds + self.overlap_seconds >= self.ca_renew_before_seconds:
            raise SettingsError(
                "cert_renew_before_seconds: plus overlap_seconds must be less than "
                "ca_renew_before_seconds (certificates are cut to their CA's lifetime; a longer "
                "renewal window would renew them on every check near the CA's end)"
            )
        if self.overlap_seconds <= self.check_interval_seconds:
            raise SettingsError(
                "overlap_seconds: must be more than check_interval_seconds, so every replica "
                "reloads the new certificate before the old CA leaves the bundle"
            )
        if self.cert_renew_before_seconds <= 2 * self.check_interval_seconds:
            raise SettingsError(
                "cert_renew_before_seconds: must be more than twice check_interval_seconds"
            )
        for name in ("check_interval_seconds", "version_refresh_seconds", "api_timeout_seconds"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name}: must be more than 0")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebhookSettings:
        """``STRONGROOM_WEBHOOK_<FIELD>`` (upper case) for every field; errors name the variable."""
        return envsettings.from_env(cls, ENV_PREFIX, environ, required=("namespace",))
