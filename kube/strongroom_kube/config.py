"""Where the API server is and how to reach it: in-cluster (the pod's ServiceAccount) or a
kubeconfig file (its current context: server, CA, a bearer token or token file).

The token is read from its file on every request rather than once, because projected
ServiceAccount tokens are rotated by the kubelet while the process runs.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import ssl
from pathlib import Path
from typing import Any

import yaml

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class ConfigError(Exception):
    """The cluster configuration cannot be used; the message names the setting."""


@dataclasses.dataclass(frozen=True)
class ClusterConfig:
    server: str
    """Base URL of the API server, e.g. ``https://10.0.0.1:443``."""
    token_file: Path | None = None
    """Read on every request (rotated tokens); wins over ``token``."""
    token: str | None = dataclasses.field(default=None, repr=False)
    ca_file: Path | None = None
    ca_data: str | None = dataclasses.field(default=None, repr=False)
    """PEM text of the CA bundle (kubeconfig ``certificate-authority-data``, decoded)."""
    insecure_skip_tls_verify: bool = False
    namespace: str | None = None
    """The namespace the process runs in, when known (in-cluster)."""

    def read_token(self) -> str | None:
        if self.token_file is not None:
            try:
                return self.token_file.read_text(encoding="utf-8").strip()
            except OSError as e:
                raise ConfigError(
                    f"cannot read the bearer token file {self.token_file}: {e.strerror}"
                ) from None
        return self.token

    def ssl_context(self) -> ssl.SSLContext | bool:
        if not self.server.startswith("https://"):
            return False
        if self.insecure_skip_tls_verify:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        if self.ca_file is None and self.ca_data is None:
            return ssl.create_default_context()
        try:
            return ssl.create_default_context(
                cafile=str(self.ca_file) if self.ca_file else None, cadata=self.ca_data
            )
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"cannot load the CA bundle {self.ca_file or '(inline)'}: {e}") from e


def in_cluster(directory: Path = SERVICE_ACCOUNT_DIR) -> ClusterConfig:
    """The pod's own ServiceAccount: ``KUBERNETES_SERVICE_HOST``/``_PORT`` and the mounted
    token, CA and namespace."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if not host:
        raise ConfigError(
            "KUBERNETES_SERVICE_HOST is not set: not running in a cluster; give a kubeconfig"
        )
    if ":" in host:
        host = f"[{host}]"
    namespace_file = directory / "namespace"
    namespace = namespace_file.read_text().strip() if namespace_file.exists() else None
    return ClusterConfig(
        server=f"https://{host}:{port}",
        token_file=directory / "token",
        ca_file=directory / "ca.crt",
        namespace=namespace,
    )


def _named(entries: Any, name: str, what: str, path: Path) -> dict[str, Any]:
    for entry in entries or ():
        if isinstance(entry, dict) and entry.get("name") == name:
            body = entry.get(what)
            if isinstance(body, dict):
                return body
    raise ConfigError(f"kubeconfig {path}: no {what} named {name!r}")


def from_kubeconfig(path: Path, context: str | None = None) -> ClusterConfig:
    """The current (or named) context of a kubeconfig. Supports ``token``/``tokenFile`` users and
    ``certificate-authority``/``-data``; client certificates and exec plugins are refused."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read kubeconfig {path}: {e}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"kubeconfig {path} is not a YAML mapping")
    name = context or document.get("current-context")
    if not name:
        raise ConfigError(f"kubeconfig {path} has no current-context; name a context")
    ctx = _named(document.get("contexts"), name, "context", path)
    cluster = _named(document.get("clusters"), str(ctx.get("cluster")), "cluster", path)
    user = _named(document.get("users"), str(ctx.get("user")), "user", path)
    if "client-certificate" in user or "client-certificate-data" in user or "exec" in user:
        raise ConfigError(
            f"kubeconfig {path}: user {ctx.get('user')!r} uses client certificates or exec;"
            " only token and tokenFile are supported"
        )
    server = cluster.get("server")
    if not isinstance(server, str) or not server:
        raise ConfigError(f"kubeconfig {path}: cluster {ctx.get('cluster')!r} has no server")
    base = path.parent

    def relative(value: Any) -> Path | None:
        return None if not value else (base / str(value))

    ca_data = cluster.get("certificate-authority-data")
    return ClusterConfig(
        server=server.rstrip("/"),
        token_file=relative(user.get("tokenFile")),
        token=user.get("token"),
        ca_file=relative(cluster.get("certificate-authority")),
        ca_data=base64.b64decode(ca_data).decode() if ca_data else None,
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify")),
        namespace=ctx.get("namespace"),
    )
