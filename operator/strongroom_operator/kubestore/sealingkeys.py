"""The control plane's sealing key pair (``strongroom seal`` encrypts to its public half) in one
Secret of the control plane's namespace, shared by the operator (which opens sealed values) and
every control-plane replica (which publishes the public key).

``load_or_create`` is compare-and-swap through the API server: two replicas starting at once
both POST, the loser gets 409 AlreadyExists and loads the winner's key, so all replicas serve
the same public key. Nothing here deletes or replaces the Secret (values sealed to a key no
longer held cannot be opened); it is kept on uninstall like the root keys.
"""

from __future__ import annotations

from strongroom_core.sealing import publickey
from strongroom_kube import client
from strongroom_operator.kubestore import keysecrets

DEFAULT_NAME = "strongroom-sealing-key"
DATA_KEY = "sealing-key.json"


class KubernetesSealingKeyStore:
    def __init__(self, kube: client.KubeClient, namespace: str, name: str = DEFAULT_NAME) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = name
        self._secret = keysecrets.KeySecret(
            kube,
            namespace,
            name,
            type_name="strongroom.dev/sealing-key",
            data_key=DATA_KEY,
            restore_hint=(
                "restore it from a backup (values sealed to it cannot be opened without it)"
            ),
        )

    def __repr__(self) -> str:
        return f"KubernetesSealingKeyStore(namespace={self.namespace!r}, name={self.name!r})"

    async def load(self) -> publickey.SealingKey | None:
        """The stored key, ``None`` when there is no Secret yet."""
        found = await self._secret.read()
        return None if found is None else publickey.SealingKey.from_document(found[0])

    async def load_or_create(self) -> publickey.SealingKey:
        found = await self.load()
        if found is not None:
            return found
        key = publickey.SealingKey.generate()
        try:
            await self._secret.create(key.to_document())
        except client.AlreadyExists:
            winner = await self.load()
            if winner is None:
                raise
            return winner
        return key
