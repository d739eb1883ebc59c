"""Webhook tests run against the project's Kubernetes emulator (``kube``), with the
admissionregistration resource the webhook patches added to it, and may leave no task running."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from strongroom_kube import client, config
from strongroom_webhook import apps, mutating, settings
from tests.kube import emulator, fixtures, resources
from tests.kube.fixtures import kube

__all__ = ["kube", "tasks_checked"]

NAMESPACE = "team-a"
WEBHOOK_NAMESPACE = "strongroom-system"
MUTATING = resources.ResourceDef(
    "admissionregistration.k8s.io",
    "v1",
    "mutatingwebhookconfigurations",
    "MutatingWebhookConfiguration",
    False,
)


@pytest.fixture(autouse=True)
def tasks_checked(no_tasks_left_behind: None) -> None:
    """Every test here is checked for tasks left running."""


no_tasks_left_behind = fixtures.no_tasks_left_behind


def make_settings(**overrides: Any) -> settings.WebhookSettings:
    values: dict[str, Any] = {
        "namespace": WEBHOOK_NAMESPACE,
        "sidecar_image": "strongroom/sidecar:test",
        "listen_host": "127.0.0.1",
        "port": 0,
    }
    values.update(overrides)
    return settings.WebhookSettings(**values)


def cluster_of(kube: emulator.KubeEmulator) -> config.ClusterConfig:
    return config.ClusterConfig(kube.url, token=kube.admin_token)


def add_webhook_configuration(kube: emulator.KubeEmulator) -> None:
    """The emulator serves no admissionregistration resources; tests register the one the
    webhook patches, and the configuration the chart would install."""
    if kube.store.registry.find(MUTATING.group, MUTATING.version, MUTATING.plural) is None:
        kube.store.registry.add(MUTATING)
    kube.create(
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": "strongroom-webhook"},
            "webhooks": [
                {
                    "name": "sidecar.strongroom.dev",
                    "clientConfig": {
                        "service": {"name": "strongroom-webhook", "namespace": WEBHOOK_NAMESPACE}
                    },
                    "admissionReviewVersions": ["v1"],
                    "sideEffects": "None",
                }
            ],
        }
    )


@pytest.fixture
async def team(kube: emulator.KubeEmulator) -> emulator.KubeEmulator:
    """The namespace ``team-a`` (injection enabled) with App ``shop`` allowing ``shop`` and
    ``shop-batch``."""
    kube.create_namespace(NAMESPACE, {"strongroom.dev/injection": "enabled"})
    kube.create(
        {
            "apiVersion": "strongroom.dev/v1alpha1",
            "kind": "App",
            "metadata": {"name": "shop", "namespace": NAMESPACE},
            "spec": {"serviceAccounts": ["shop", "shop-batch"]},
        }
    )
    return kube


@pytest.fixture
async def mutator(team: emulator.KubeEmulator) -> AsyncIterator[mutating.Mutator]:
    """The pipeline with Apps read from the emulator and Kubernetes 1.31."""
    async with client.KubeClient(cluster_of(team)) as api:
        yield mutating.Mutator(make_settings(), apps.KubeApps(api), lambda: (1, 31))


def review(
    pod: dict[str, Any],
    *,
    namespace: str = NAMESPACE,
    operation: str = "CREATE",
    kind: str = "Pod",
    uid: str = "705ab4f5-6393-11e8-b7cc-42010a800002",
) -> bytes:
    return json.dumps(
        {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": uid,
                "kind": {"group": "", "version": "v1", "kind": kind},
                "resource": {"group": "", "version": "v1", "resource": "pods"},
                "namespace": namespace,
                "operation": operation,
                "userInfo": {"username": "alice"},
                "object": pod,
                "dryRun": False,
            },
        }
    ).encode()


def pod(
    *,
    annotations: dict[str, str] | None = None,
    inject: bool = True,
    service_account: str = "shop",
    containers: list[dict[str, Any]] | None = None,
    init_containers: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    notes = {"strongroom.dev/inject": "true", "strongroom.dev/app": "shop"} if inject else {}
    notes.update(annotations or {})
    body: dict[str, Any] = {
        "serviceAccountName": service_account,
        "containers": containers or [{"name": "app", "image": "example/app:1"}],
        **spec,
    }
    if init_containers is not None:
        body["initContainers"] = init_containers
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "web-", "namespace": NAMESPACE, "annotations": notes},
        "spec": body,
    }
