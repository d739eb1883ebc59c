"""What the handlers do on the Kubernetes API beyond kopf's own patches: read the Secrets a
resource refers to, write an Agent's key Secret, delete a plaintext Secret, patch a status from
a daemon. One :class:`strongroom_kube.client.KubeClient` (the storage's) does it all.

Secret values are decoded only into memory and never appear in an error or a log line.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from strongroom_core.resources import models
from strongroom_kube import client
from strongroom_operator.reconcile import secretrefs

SECRETS = "/api/v1/namespaces/{namespace}/secrets"
AGENT_KEY_DATA = "apiKey"
ROTATED_FOR = "strongroom.dev/rotated-for"
"""Annotation on an Agent's key Secret: the ``strongroom.dev/rotate-key`` value it answers."""


class KubeSecrets:
    """A :data:`secretrefs.SecretReader` over the API server (namespaced Secrets)."""

    def __init__(self, kube: client.KubeClient) -> None:
        self.kube = kube

    def __repr__(self) -> str:
        return "KubeSecrets(<api server>)"

    async def __call__(self, namespace: str, name: str) -> Mapping[str, str] | None:
        try:
            secret = await self.kube.request("GET", f"{SECRETS.format(namespace=namespace)}/{name}")
        except client.NotFound:
            return None
        except (client.ApiError, OSError) as e:
            reason = e.reason if isinstance(e, client.ApiError) else type(e).__name__
            raise secretrefs.SecretReadError(
                f'Secret "{name}" in namespace "{namespace}" could not be read ({reason})'
            ) from None
        data: dict[str, str] = {}
        for key, value in (secret.get("data") or {}).items():
            try:
                data[str(key)] = base64.b64decode(str(value), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                continue  # binary values cannot be credentials fields; treated as absent
        return data


def agent_key_secret_name(agent: str) -> str:
    return f"{agent}-strongroom-key"


async def read_agent_key_secret(
    kube: client.KubeClient, namespace: str, agent: str
) -> dict[str, Any] | None:
    path = f"{SECRETS.format(namespace=namespace)}/{agent_key_secret_name(agent)}"
    try:
        return await kube.request("GET", path)
    except client.NotFound:
        return None


async def write_agent_key_secret(
    kube: client.KubeClient,
    agent: models.Agent,
    plaintext: str,
    kid: str,
    rotated_for: str | None,
) -> None:
    """Create or replace ``<agent>-strongroom-key`` in the Agent's namespace, owned by the
    Agent (deleted with it). ``rotated_for`` records which rotation request it answers."""
    namespace, name = agent.key
    annotations = {"strongroom.dev/key-id": kid}
    if rotated_for is not None:
        annotations[ROTATED_FOR] = rotated_for
    secret: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": agent_key_secret_name(name),
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/managed-by": "strongroom",
                "strongroom.dev/agent": name,
            },
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": models.API_VERSION,
                    "kind": "Agent",
                    "name": name,
                    "uid": agent.meta.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "data": {AGENT_KEY_DATA: base64.b64encode(plaintext.encode("utf-8")).decode("ascii")},
    }
    collection = SECRETS.format(namespace=namespace)
    try:
        await kube.request("POST", collection, body=secret)
    except client.AlreadyExists:
        await kube.request("PUT", f"{collection}/{agent_key_secret_name(name)}", body=secret)


async def delete_secret(kube: client.KubeClient, namespace: str, name: str) -> bool:
    """True when deleted now, False when it was already gone."""
    try:
        await kube.request("DELETE", f"{SECRETS.format(namespace=namespace)}/{name}")
    except client.NotFound:
        return False
    return True


async def patch_status(
    kube: client.KubeClient, plural: str, namespace: str, name: str, status: dict[str, Any]
) -> None:
    """A merge patch of ``status`` through the status subresource (from a daemon, where kopf
    applies no patch until it ends)."""
    path = f"/apis/{models.API_VERSION}/namespaces/{namespace}/{plural}/{name}/status"
    await kube.request("PATCH", path, body={"status": status}, content_type=client.MERGE_PATCH)
