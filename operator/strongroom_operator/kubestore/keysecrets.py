"""A key document (JSON) in one Secret of the control plane's namespace: how the root keyring
(:mod:`rootkeys`) and the sealing key pair (:mod:`sealingkeys`) are kept.

The Secret is labelled as Strongroom's and annotated ``helm.sh/resource-policy: keep``: losing
either key loses what was sealed under it, so it outlives uninstalls, and nothing here deletes
it. Writes are compare-and-swap through the API server: a create fails with
:class:`client.AlreadyExists` when another replica created the Secret first, a replace with
:class:`client.Conflict` when the Secret changed since the resourceVersion it names. The stores
decide what either means.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

from strongroom_core.sealing import errors as sealing_errors
from strongroom_kube import client


@dataclasses.dataclass(frozen=True)
class KeySecret:
    kube: client.KubeClient
    namespace: str
    name: str
    type_name: str
    """The Secret's ``type``, e.g. ``strongroom.dev/root-keys``."""
    data_key: str
    """The entry of ``data`` holding the JSON document."""
    restore_hint: str
    """What to do when the document cannot be read; the error says it."""

    @property
    def _collection(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/secrets"

    async def read(self) -> tuple[Any, str] | None:
        """The decoded document and the Secret's resourceVersion; ``None`` when there is no
        Secret. A Secret without a readable document is
        :class:`~strongroom_core.sealing.errors.MalformedKeyDocumentError`."""
        try:
            secret = await self.kube.get(f"{self._collection}/{self.name}")
        except client.NotFound:
            return None
        try:
            document = json.loads(base64.b64decode(secret["data"][self.data_key]))
        except (KeyError, TypeError, ValueError):
            raise sealing_errors.MalformedKeyDocumentError(
                f"Secret {self.namespace}/{self.name} has no readable {self.data_key!r};"
                f" {self.restore_hint}"
            ) from None
        return document, str(secret["metadata"]["resourceVersion"])

    async def create(self, document: Any) -> str:
        """Create the Secret holding ``document``; its resourceVersion. Raises
        :class:`client.AlreadyExists` when it exists."""
        saved = await self.kube.create(self._collection, self._secret(document))
        return str(saved["metadata"]["resourceVersion"])

    async def replace(self, document: Any, resource_version: str) -> str:
        """Replace the document of the Secret last seen at ``resource_version``; the new
        resourceVersion. Raises :class:`client.Conflict` when it changed since."""
        secret = self._secret(document)
        secret["metadata"]["resourceVersion"] = resource_version
        saved = await self.kube.replace(f"{self._collection}/{self.name}", secret)
        return str(saved["metadata"]["resourceVersion"])

    def _secret(self, document: Any) -> dict[str, Any]:
        encoded = json.dumps(document).encode("utf-8")
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": self.type_name,
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {"app.kubernetes.io/managed-by": "strongroom"},
                "annotations": {"helm.sh/resource-policy": "keep"},
            },
            "data": {self.data_key: base64.b64encode(encoded).decode("ascii")},
        }
