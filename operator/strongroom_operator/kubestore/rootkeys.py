"""``KubernetesRootKeyStore``: the root keyring in one Secret of the control plane's namespace.

Nothing here deletes it: losing the root keyring loses every credential, so it outlives
uninstalls (``helm.sh/resource-policy: keep``) and is backed up with ``strongroom key export``.
Writes are compare-and-swap on the resourceVersion last read, so two replicas starting at once
cannot both create a keyring (the loser gets ``ConflictError`` and must load again), and a
rotation can never overwrite a keyring it did not see.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from strongroom_core.sealing import errors as sealing_errors
from strongroom_core.sealing import keys, rootkeys
from strongroom_core.storage import errors
from strongroom_kube import client

DEFAULT_NAME = "strongroom-root-keys"
DATA_KEY = "root-keys.json"


class KubernetesRootKeyStore:
    def __init__(self, kube: client.KubeClient, namespace: str, name: str = DEFAULT_NAME) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = name
        self._resource_version: str | None = None

    def __repr__(self) -> str:
        return f"KubernetesRootKeyStore(namespace={self.namespace!r}, name={self.name!r})"

    @property
    def _path(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/secrets"

    async def load(self) -> keys.Keyring:
        try:
            secret = await self.kube.request("GET", f"{self._path}/{self.name}")
        except client.NotFound:
            raise rootkeys.RootKeysMissingError(
                f"no root keys Secret {self.namespace}/{self.name}"
            ) from None
        try:
            document = json.loads(base64.b64decode(secret["data"][DATA_KEY]))
        except (KeyError, TypeError, ValueError):
            raise sealing_errors.MalformedKeyDocumentError(
                f"Secret {self.namespace}/{self.name} has no readable {DATA_KEY!r};"
                " restore it from a backup (strongroom key import)"
            ) from None
        keyring = rootkeys.root_keyring_from_document(document)
        self._resource_version = secret["metadata"]["resourceVersion"]
        return keyring

    async def save(self, keyring: keys.Keyring) -> None:
        document = json.dumps(rootkeys.root_keyring_to_document(keyring)).encode("utf-8")
        secret: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "strongroom.dev/root-keys",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {"app.kubernetes.io/managed-by": "strongroom"},
                "annotations": {"helm.sh/resource-policy": "keep"},
            },
            "data": {DATA_KEY: base64.b64encode(document).decode("ascii")},
        }
        what = f"root keys Secret {self.namespace}/{self.name}"
        try:
            if self._resource_version is None:
                saved = await self.kube.request("POST", self._path, body=secret)
            else:
                secret["metadata"]["resourceVersion"] = self._resource_version
                saved = await self.kube.request("PUT", f"{self._path}/{self.name}", body=secret)
        except client.AlreadyExists:
            raise errors.ConflictError(
                f"{what} was created by someone else; load it", None, None
            ) from None
        except client.Conflict:
            raise errors.ConflictError(
                f"{what} changed since it was loaded; load it again", None, None
            ) from None
        self._resource_version = saved["metadata"]["resourceVersion"]
