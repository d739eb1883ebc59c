"""What the webhook adds to a pod: the sidecar container (a native sidecar), its two volumes
and the ``STRONGROOM_URL`` variable for the app's containers.

The sidecar alone mounts the projected token and the control plane's CA: the app containers
share the pod's ServiceAccount but never see the token that proves to the control plane that a
sidecar is calling. It runs under its own UID with nothing writable and no capabilities, so the
app container cannot read its memory (where credentials live while in use).

The variable names are the sidecar's settings (``STRONGROOM_SIDECAR_<FIELD>``); the webhook
cannot import the sidecar package, so a test checks every name here parses there.
"""

from __future__ import annotations

from typing import Any

from strongroom_core import podspec
from strongroom_webhook import podannotations, settings

SIDECAR_ENV_PREFIX = "STRONGROOM_SIDECAR_"
POD_NAME_ENV = "STRONGROOM_POD_NAME"


def container(
    config: settings.WebhookSettings, app: str, resources: podannotations.Resources
) -> dict[str, Any]:
    """The sidecar as an init container with ``restartPolicy: Always``: it starts before the
    other init containers (which may need it), the startup probe holds them back until it is
    ready, and it does not keep a Job's pod running once the app containers exit."""
    health = {"path": "/readyz", "port": podspec.HEALTH_PORT, "scheme": "HTTP"}
    env: list[dict[str, Any]] = [
        {"name": POD_NAME_ENV, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        _sidecar_env("control_plane_url", config.control_plane_url),
        {
            "name": SIDECAR_ENV_PREFIX + "NAMESPACE",
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
        },
        _sidecar_env("app", app),
        _sidecar_env("caller", f"pod/$({POD_NAME_ENV})"),
        _sidecar_env(
            "control_plane_token_file", f"{podspec.TOKEN_MOUNT_PATH}/{podspec.TOKEN_FILE_NAME}"
        ),
    ]
    mounts = [
        {"name": podspec.TOKEN_VOLUME_NAME, "mountPath": podspec.TOKEN_MOUNT_PATH, "readOnly": True}
    ]
    if config.control_plane_ca_configmap:
        env.append(
            _sidecar_env("control_plane_ca_file", f"{podspec.CA_MOUNT_PATH}/{podspec.CA_FILE_NAME}")
        )
        mounts.append(
            {"name": podspec.CA_VOLUME_NAME, "mountPath": podspec.CA_MOUNT_PATH, "readOnly": True}
        )
    return {
        "name": podspec.SIDECAR_CONTAINER_NAME,
        "image": config.sidecar_image,
        "imagePullPolicy": config.sidecar_image_pull_policy,
        "restartPolicy": "Always",
        "env": env,
        "ports": [
            {"name": "sr-proxy", "containerPort": podspec.PROXY_PORT, "protocol": "TCP"},
            {"name": "sr-health", "containerPort": podspec.HEALTH_PORT, "protocol": "TCP"},
        ],
        "startupProbe": {
            "httpGet": health,
            "periodSeconds": 1,
            "failureThreshold": 120,
            "timeoutSeconds": 2,
        },
        "readinessProbe": {"httpGet": health, "periodSeconds": 5, "timeoutSeconds": 2},
        "livenessProbe": {
            "httpGet": {**health, "path": "/healthz"},
            "periodSeconds": 10,
            "timeoutSeconds": 2,
            "failureThreshold": 3,
        },
        "resources": resources.as_spec(),
        "securityContext": {
            "runAsUser": podspec.SIDECAR_UID,
            "runAsGroup": podspec.SIDECAR_UID,
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": mounts,
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }


def volumes(config: settings.WebhookSettings) -> list[dict[str, Any]]:
    """The projected token keeps the default file mode (0644): the sidecar runs under another
    UID than the app and no fsGroup is assumed; the mount, not the mode, keeps the app out."""
    token = {
        "name": podspec.TOKEN_VOLUME_NAME,
        "projected": {
            "sources": [
                {
                    "serviceAccountToken": {
                        "audience": podspec.TOKEN_AUDIENCE,
                        "expirationSeconds": config.token_expiration_seconds,
                        "path": podspec.TOKEN_FILE_NAME,
                    }
                }
            ],
        },
    }
    if not config.control_plane_ca_configmap:
        return [token]
    ca = {
        "name": podspec.CA_VOLUME_NAME,
        "configMap": {
            "name": config.control_plane_ca_configmap,
            "items": [{"key": podspec.CA_FILE_NAME, "path": podspec.CA_FILE_NAME}],
        },
    }
    return [token, ca]


def volume_names(config: settings.WebhookSettings) -> list[str]:
    return [str(v["name"]) for v in volumes(config)]


def url_env() -> dict[str, str]:
    return {"name": podspec.SIDECAR_URL_ENV, "value": podspec.SIDECAR_URL}


def _sidecar_env(field: str, value: str) -> dict[str, str]:
    return {"name": SIDECAR_ENV_PREFIX + field.upper(), "value": value}
