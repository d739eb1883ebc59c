"""Fixtures: the emulator, the real operator on it (short timeouts), and resource builders."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from strongroom_core.sealing import bindings, credentials, publickey, rootkeys
from strongroom_kube import client, config
from strongroom_operator.controlplane import keyservice
from strongroom_operator.kopfhandlers import settings, wiring
from strongroom_operator.kubestore import rootkeys as kuberootkeys
from strongroom_operator.kubestore import sealingkeys, storage
from strongroom_operator.kubestore import secrets as kubesecrets
from tests import canary
from tests.kube import emulator, fixtures, kopfrun
from tests.kube.fixtures import kube

__all__ = ["kube", "no_tasks_left_behind", "tasks_checked"]

NAMESPACE = emulator.CONTROL_PLANE_NAMESPACE
GROUP = "strongroom.dev"


def test_settings(kube: emulator.KubeEmulator, **changes: Any) -> settings.OperatorSettings:
    base = settings.OperatorSettings(
        namespace=NAMESPACE,
        kubeconfig=kube.kubeconfig,
        peering=None,
        retry_delay=0.2,
        max_retry_delay=1.0,
        grant_poll_seconds=0.2,
        revocation_attempts=3,
        revocation_backoff=0.1,
        revocation_timeout=2.0,
        allow_loopback_http=True,
        watch_timeout=10,
        reconnect_backoff=0.1,
    )
    return dataclasses.replace(base, **changes)


@contextlib.asynccontextmanager
async def operator(
    kube: emulator.KubeEmulator, **changes: Any
) -> AsyncIterator[asyncio.Task[None]]:
    """The real operator (``wiring.build_registry``) running against ``kube``."""
    canary.register(kube.admin_token)
    registry = wiring.build_registry(test_settings(kube, **changes))
    async with kopfrun.running_operator(kube, registry) as task:
        yield task


async def until(condition: Callable[[], Any], timeout: float = 20) -> Any:
    """Poll ``condition`` until it returns something truthy; that value."""

    async def poll() -> Any:
        while True:
            value = condition()
            if value:
                return value
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), timeout)


async def until_async(condition: Callable[[], Any], timeout: float = 20) -> Any:
    async def poll() -> Any:
        while True:
            value = await condition()
            if value:
                return value
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), timeout)


@contextlib.asynccontextmanager
async def storage_of(kube: emulator.KubeEmulator) -> AsyncIterator[storage.KubernetesStorage]:
    """The operator's storage as the control plane sees it. Close it before the operator
    stops: kopf cancels, after a 5 s wait, every task started after it (the emulator's task
    serving a kept-alive connection among them)."""
    cluster = config.ClusterConfig(server=kube.url, token=kube.admin_token)
    store = storage.KubernetesStorage(client.KubeClient(cluster), NAMESPACE, watch_timeout=5)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def document(kube: emulator.KubeEmulator, app: str, name: str, ns: str = "team-a") -> Any:
    """A stored document's body read from the emulator's state (no HTTP), or ``None``."""
    found = kube.get("secrets", kubesecrets.document_secret_name(ns, app, name), NAMESPACE)
    return None if found is None else kubesecrets.document_from_secret(found)


def record(kube: emulator.KubeEmulator, name: str, ns: str = "team-a") -> Any:
    found = kube.get("secrets", kubesecrets.grant_secret_name(ns, name), NAMESPACE)
    return None if found is None else kubesecrets.grant_from_secret(found)


def root_store(store: storage.KubernetesStorage) -> kuberootkeys.KubernetesRootKeyStore:
    return kuberootkeys.KubernetesRootKeyStore(store.kube, NAMESPACE)


async def key_service(store: storage.KubernetesStorage) -> keyservice.KeyService:
    roots = root_store(store)
    await rootkeys.load_or_create(roots)
    return keyservice.KeyService(store, roots)


async def sealing_key(store: storage.KubernetesStorage) -> Any:
    return await sealingkeys.KubernetesSealingKeyStore(store.kube, NAMESPACE).load_or_create()


def status(kube: emulator.KubeEmulator, plural: str, name: str, ns: str = "team-a") -> Any:
    found = kube.get(f"{plural}.{GROUP}", name, ns)
    return (found or {}).get("status") or {}


def state_is(kube: emulator.KubeEmulator, name: str, state: str) -> Callable[[], bool]:
    """A condition for :func:`until`: Grant ``name`` has ``status.state == state``."""
    return lambda: bool(status(kube, "grants", name).get("state") == state)


def ready(kube: emulator.KubeEmulator, plural: str, name: str, ns: str = "team-a") -> Any:
    for condition in status(kube, plural, name, ns).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition
    return None


def events(kube: emulator.KubeEmulator, name: str, ns: str = "team-a") -> list[dict[str, Any]]:
    return [e for e in kube.list("events", ns) if e["involvedObject"]["name"] == name]


def app(name: str = "shop", ns: str = "team-a", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "strongroom.dev/v1alpha1",
        "kind": "App",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"serviceAccounts": ["shop"], **spec},
    }


def secret_provider(
    name: str = "echo", app_ref: str = "shop", ns: str = "team-a"
) -> dict[str, Any]:
    return {
        "apiVersion": "strongroom.dev/v1alpha1",
        "kind": "Provider",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"appRef": app_ref, "type": "secret", "allowedHosts": ["api.example.com"]},
    }


def oauth_provider(
    name: str = "gh", app_ref: str = "shop", ns: str = "team-a", **oauth2: Any
) -> dict[str, Any]:
    return {
        "apiVersion": "strongroom.dev/v1alpha1",
        "kind": "Provider",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "appRef": app_ref,
            "type": "oauth2",
            "allowedHosts": ["api.example.com"],
            "oauth2": {
                "tokenURL": "https://auth.example.com/token",
                "clientId": "client-1",
                "clientSecretRef": {"name": "gh-client"},
                **oauth2,
            },
        },
    }


def grant(
    name: str,
    *,
    provider: str = "echo",
    app_ref: str = "shop",
    ns: str = "team-a",
    credential: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "strongroom.dev/v1alpha1",
        "kind": "Grant",
        "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}},
        "spec": {
            "appRef": app_ref,
            "providerRef": provider,
            "principal": {"kind": "system", "id": name},
            **spec,
        },
    }
    if credential is not None:
        body["spec"]["credential"] = credential
    return body


def agent(name: str, app_ref: str = "shop", ns: str = "team-a", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "strongroom.dev/v1alpha1",
        "kind": "Agent",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"appRef": app_ref, **spec},
    }


def plain_secret(name: str, data: dict[str, str], ns: str = "team-a") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": ns},
        "stringData": data,
    }


@pytest.fixture(autouse=True)
def team_namespace(kube: emulator.KubeEmulator) -> None:
    kube.create_namespace("team-a")


@pytest.fixture(autouse=True)
def tasks_checked(no_tasks_left_behind: None) -> None:
    """Every test here is checked for tasks left running."""


no_tasks_left_behind = fixtures.no_tasks_left_behind
PROJECT = Path(__file__).resolve().parents[2]


async def sealed_value(
    kube: emulator.KubeEmulator, grant_name: str, provider: str, credential: dict[str, str]
) -> str:
    """``strongroom seal`` for a Grant of team-a, to the operator's sealing key (created here
    first if the operator has not yet)."""
    async with storage_of(kube) as store:
        key = await sealing_key(store)
    binding = bindings.ClientSealBinding(namespace="team-a", grant=grant_name, provider=provider)
    return publickey.seal_to_public_key(
        key.public_pem(), credentials.encode_credential(credential), binding
    )


async def open_record(kube: emulator.KubeEmulator, name: str) -> dict[str, str]:
    """The plaintext credential of a grant record, as a sidecar would open it."""
    found = record(kube, name)
    async with storage_of(kube) as store:
        keyring = await (await key_service(store)).app_keys(found.namespace, found.app)
    return credentials.open_grant_credential(keyring, found)
