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
TOKEN_AUDIENCE = "strongroom"
"""Audience of the projected ServiceAccount token the sidecar presents to the control plane."""
TOKEN_VOLUME_NAME = "strongroom-token"
TOKEN_MOUNT_PATH = "/var/run/secrets/strongroom.dev/serviceaccount"
TOKEN_FILE_NAME = "token"
PROXY_PORT = 15080
HEALTH_PORT = 15081
SIDECAR_URL_ENV = "STRONGROOM_URL"
"""Set in app containers: ``http://127.0.0.1:15080``."""
SIDECAR_UID = 15080
"""The sidecar runs under its own UID, so the app container cannot read its memory."""
