"""Pods, Apps and projected tokens in the emulator, shaped as the webhook and the kubelet make
them: a token is JWT-shaped with the claims a projected ServiceAccount token carries (audience,
expiry, namespace, pod name and uid), and the emulator's TokenReview answers for it."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from typing import Any

from strongroom_core import podspec
from tests import canary
from tests.kube import emulator

NAMESPACE = "team-a"
APP = "shop"
SERVICE_ACCOUNT = "shop"
SIDECAR_IMAGE = "strongroom/sidecar:dev"


def _segment(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def projected_token(
    namespace: str,
    service_account: str,
    pod: str | None,
    pod_uid: str | None,
    audiences: Iterable[str],
    lifetime: float = 3600,
) -> str:
    claims: dict[str, Any] = {
        "aud": list(audiences),
        "exp": int(time.time() + lifetime),
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": {"name": service_account, "uid": "sa-uid"},
        },
    }
    if pod is not None:
        claims["kubernetes.io"]["pod"] = {"name": pod, "uid": pod_uid}
    token = ".".join([_segment({"alg": "RS256", "kid": "k"}), _segment(claims), canary.new("sig")])
    canary.register(token)
    return token


def create_app(
    kube: emulator.KubeEmulator,
    name: str = APP,
    service_accounts: Iterable[str] = (SERVICE_ACCOUNT,),
    namespace: str = NAMESPACE,
) -> None:
    kube.create(
        {
            "apiVersion": "strongroom.dev/v1alpha1",
            "kind": "App",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"serviceAccounts": list(service_accounts)},
        }
    )


def sidecar_pod(
    kube: emulator.KubeEmulator,
    name: str,
    *,
    service_account: str = SERVICE_ACCOUNT,
    app: str | None = APP,
    sidecar: bool = True,
    image: str = SIDECAR_IMAGE,
    namespace: str = NAMESPACE,
) -> dict[str, Any]:
    annotations = {podspec.INJECT_ANNOTATION: "true"}
    if app is not None:
        annotations[podspec.APP_ANNOTATION] = app
    return kube.create_pod(
        namespace,
        name,
        service_account=service_account,
        sidecar=sidecar,
        sidecar_image=image,
        annotations=annotations,
    )


def pod_token(
    kube: emulator.KubeEmulator,
    pod: dict[str, Any],
    *,
    audiences: Iterable[str] = (podspec.TOKEN_AUDIENCE,),
) -> str:
    """A projected token bound to ``pod`` (as the kubelet mounts it into the sidecar)."""
    namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    service_account = pod["spec"]["serviceAccountName"]
    audiences = tuple(audiences)
    token = projected_token(namespace, service_account, name, pod["metadata"]["uid"], audiences)
    kube.register_token(
        token,
        namespace=namespace,
        service_account=service_account,
        pod=name,
        audiences=audiences,
    )
    return token
