"""The control plane's sealing key pair (``strongroom seal`` encrypts to its public half) in one
Secret of the control plane's namespace, shared by the operator (which opens sealed values) and
every control-plane replica (which publishes the public key).

``load_or_create`` is compare-and-swap through the API server: two replicas starting at once
both POST, the loser gets 409 AlreadyExists and loads the winner's key, so all replicas serve
the same public key. Nothing here deletes or replaces the Secret (values sealed to a key no
longer held cannot be opened); it is kept on uninstall like the root keys.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from strongroom_core.sealing import errors as sealing_errors
from strongroom_core.sealing import publickey
from strongroom_kube import client

DEFAULT_NAME = "strongroom-sealing-key"
DATA_KEY = "sealing-key.json"


class KubernetesSealingKeyStore:
    def __init__(self, kube: client.KubeClient, namespace: str, name: str = DEFAULT_NAME) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = name

    def __repr__(self) -> str:
        return f"KubernetesSealingKeyStore(namespace={self.namespace!r}, name={self.name!r})"

    @property
    def _path(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/secrets"

    async def load(self) -> publickey.SealingKey | None:
        """The stored key, ``None`` when there is no Secret yet."""
        try:
            secret = await self.kube.request("GET", f"{self._path}/{self.name}")
        except client.NotFound:
            return None
        try:
            document = json.loads(base64.b64decode(secret["data"][DATA_KEY]))
        except (KeyError, TypeError, ValueError):
            raise sealing_errors.MalformedKeyDocumentError(
                f"Secret {self.namespace}/{self.name} has no readable {DATA_KEY!r}; restore it"
                " from a backup (values sealed to it cannot be opened without it)"
            ) from None
        return publickey.SealingKey.from_document(document)

    async def load_or_create(self) -> publickey.SealingKey:
        found = await self.load()
        if found is not None:
            return found
        key = publickey.SealingKey.generate()
        document = json.dumps(key.to_document()).encode("utf-8")
        secret: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "strongroom.dev/sealing-key",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {"app.kubernetes.io/managed-by": "strongroom"},
                "annotations": {"helm.sh/resource-policy": "keep"},
            },
            "data": {DATA_KEY: base64.b64encode(document).decode("ascii")},
        }
        try:
            await self.kube.request("POST", self._path, body=secret)
        except client.AlreadyExists:
            winner = await self.load()
            if winner is None:
                raise
            return winner
        return key
