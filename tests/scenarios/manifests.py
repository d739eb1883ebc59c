"""The resources the scenarios apply: valid for the CRDs' schemas and CEL rules (a real API
server checks them), so what is wrong in the "bad" ones is only what the operator can see."""

from __future__ import annotations

from typing import Any

from strongroom_core import podspec

API_VERSION = "strongroom.dev/v1alpha1"
SERVICE_ACCOUNT = "shop"


def _meta(name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace}


def app(
    namespace: str, name: str = "shop", service_accounts: tuple[str, ...] = (SERVICE_ACCOUNT,)
) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "App",
        "metadata": _meta(name, namespace),
        "spec": {"serviceAccounts": list(service_accounts)},
    }


def secret_provider(namespace: str, name: str = "echo", app_ref: str = "shop") -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Provider",
        "metadata": _meta(name, namespace),
        "spec": {"appRef": app_ref, "type": "secret", "allowedHosts": ["api.example.com"]},
    }


def preset_provider(
    namespace: str, name: str, preset: str, app_ref: str = "shop"
) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Provider",
        "metadata": _meta(name, namespace),
        "spec": {"appRef": app_ref, "preset": preset},
    }


def grant_from_secret(
    namespace: str, name: str, secret: str, provider: str = "echo", app_ref: str = "shop"
) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Grant",
        "metadata": _meta(name, namespace),
        "spec": {
            "appRef": app_ref,
            "providerRef": provider,
            "principal": {"kind": "system", "id": name},
            "credential": {"secretRef": {"name": secret, "key": "token"}},
        },
    }


def agent(namespace: str, name: str, grant: str, app_ref: str = "shop") -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Agent",
        "metadata": _meta(name, namespace),
        "spec": {"appRef": app_ref, "access": [{"grant": grant}]},
    }


def plain_secret(namespace: str, name: str, token: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(name, namespace),
        "stringData": {"token": token},
    }


def service_account(namespace: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, namespace)}


def pod(
    namespace: str,
    name: str,
    *,
    sidecar_image: str | None,
    service_account: str = SERVICE_ACCOUNT,
    app: str = "shop",
) -> dict[str, Any]:
    """A pod shaped as the webhook leaves it (``sidecar_image`` None: without the sidecar). It
    need not run: the control plane reads its spec, and a token can be bound to it at once."""
    spec: dict[str, Any] = {
        "serviceAccountName": service_account,
        "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}],
    }
    if sidecar_image is not None:
        spec["initContainers"] = [
            {
                "name": podspec.SIDECAR_CONTAINER_NAME,
                "image": sidecar_image,
                "restartPolicy": "Always",
            }
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            **_meta(name, namespace),
            "annotations": {podspec.INJECT_ANNOTATION: "true", podspec.APP_ANNOTATION: app},
        },
        "spec": spec,
    }
