"""Names shared by the webhook that injects the sidecar and the control plane that checks a
sidecar's pod: one place, so the two can never disagree. Every label and annotation key is a named
constant here with its default (the vault-k8s habit)."""

from __future__ import annotations

# --- what users write ---------------------------------------------------------------------------
INJECT_ANNOTATION = "strongroom.dev/inject"
"""Pods opt in with ``strongroom.dev/inject: "true"``."""
APP_ANNOTATION = "strongroom.dev/app"
"""The App (in the pod's namespace) whose sidecar the pod gets."""
NAMESPACE_INJECTION_LABEL = "strongroom.dev/injection"
"""Only namespaces labelled ``strongroom.dev/injection: enabled`` reach the webhook."""
NAMESPACE_INJECTION_ENABLED = "enabled"

# --- what the webhook injects -------------------------------------------------------------------
SIDECAR_CONTAINER_NAME = "strongroom-sidecar"
"""The native sidecar (an init container with ``restartPolicy: Always``)."""
TOKEN_AUDIENCE = "strongroom"  # noqa: S105  (names, not secrets)
"""Audience of the projected ServiceAccount token the sidecar presents to the control plane."""
TOKEN_VOLUME_NAME = "strongroom-token"  # noqa: S105
TOKEN_MOUNT_PATH = "/var/run/secrets/strongroom.dev/serviceaccount"  # noqa: S105
TOKEN_FILE_NAME = "token"  # noqa: S105
PROXY_PORT = 15080
HEALTH_PORT = 15081
SIDECAR_URL_ENV = "STRONGROOM_URL"
"""Set in app containers: ``http://127.0.0.1:15080``."""
SIDECAR_UID = 15080
"""The sidecar runs under its own UID, so the app container cannot read its memory."""

# --- added for the webhook: everything else it injects, with defaults ---------------------------
SIDECAR_URL = f"http://127.0.0.1:{PROXY_PORT}"
"""The value of ``STRONGROOM_URL`` the webhook sets in app containers."""
TOKEN_EXPIRATION_SECONDS = 3600
"""Lifetime of the projected token; the kubelet renews it at 80 % and the sidecar re-reads it."""
CA_VOLUME_NAME = "strongroom-ca"
CA_MOUNT_PATH = "/var/run/secrets/strongroom.dev/ca"
CA_FILE_NAME = "ca.crt"
"""The control plane's CA bundle, mounted into the sidecar only (key of the ConfigMap)."""
CA_CONFIGMAP_NAME = "strongroom-ca"
"""Default ConfigMap (in the pod's namespace) holding ``ca.crt`` for the sidecar."""

SIDECAR_CPU_REQUEST_ANNOTATION = "strongroom.dev/sidecar-cpu-request"
SIDECAR_CPU_LIMIT_ANNOTATION = "strongroom.dev/sidecar-cpu-limit"
SIDECAR_MEMORY_REQUEST_ANNOTATION = "strongroom.dev/sidecar-memory-request"
SIDECAR_MEMORY_LIMIT_ANNOTATION = "strongroom.dev/sidecar-memory-limit"
DEFAULT_SIDECAR_CPU_REQUEST = "10m"
DEFAULT_SIDECAR_CPU_LIMIT = ""
"""No CPU limit by default: a throttled sidecar adds latency to every call; empty means none."""
DEFAULT_SIDECAR_MEMORY_REQUEST = "32Mi"
DEFAULT_SIDECAR_MEMORY_LIMIT = "128Mi"
SIDECAR_RESOURCE_ANNOTATIONS = {
    SIDECAR_CPU_REQUEST_ANNOTATION: ("requests", "cpu", DEFAULT_SIDECAR_CPU_REQUEST),
    SIDECAR_CPU_LIMIT_ANNOTATION: ("limits", "cpu", DEFAULT_SIDECAR_CPU_LIMIT),
    SIDECAR_MEMORY_REQUEST_ANNOTATION: ("requests", "memory", DEFAULT_SIDECAR_MEMORY_REQUEST),
    SIDECAR_MEMORY_LIMIT_ANNOTATION: ("limits", "memory", DEFAULT_SIDECAR_MEMORY_LIMIT),
}
"""Annotation → (``resources`` section, resource name, default) for the sidecar container."""

SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
"""Never injected, whatever their labels say (and the webhook's own namespace neither)."""
MIN_KUBERNETES_VERSION = (1, 29)
"""Native sidecars (init containers with ``restartPolicy: Always``) are on by default from 1.29."""
