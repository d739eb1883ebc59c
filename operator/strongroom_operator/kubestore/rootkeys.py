"""``KubernetesRootKeyStore``: the root keyring in one Secret of the control plane's namespace.

Nothing here deletes it: losing the root keyring loses every credential, so it outlives
uninstalls (``helm.sh/resource-policy: keep``) and is backed up with ``strongroom key export``.
Writes are compare-and-swap on the resourceVersion last read, so two replicas starting at once
cannot both create a keyring (the loser gets ``ConflictError`` and must load again), and a
rotation can never overwrite a keyring it did not see.
"""

from __future__ import annotations

from strongroom_core.sealing import keys, rootkeys
from strongroom_core.storage import errors
from strongroom_kube import client
from strongroom_operator.kubestore import keysecrets

DEFAULT_NAME = "strongroom-root-keys"
DATA_KEY = "root-keys.json"


class KubernetesRootKeyStore:
    def __init__(self, kube: client.KubeClient, namespace: str, name: str = DEFAULT_NAME) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = name
        self._secret = keysecrets.KeySecret(
            kube,
            namespace,
            name,
            type_name="strongroom.dev/root-keys",
            data_key=DATA_KEY,
            restore_hint="restore it from a backup (strongroom key import)",
        )
        self._resource_version: str | None = None

    def __repr__(self) -> str:
        return f"KubernetesRootKeyStore(namespace={self.namespace!r}, name={self.name!r})"

    async def load(self) -> keys.Keyring:
        found = await self._secret.read()
        if found is None:
            raise rootkeys.RootKeysMissingError(f"no root keys Secret {self.namespace}/{self.name}")
        document, resource_version = found
        keyring = rootkeys.root_keyring_from_document(document)
        self._resource_version = resource_version
        return keyring

    async def save(self, keyring: keys.Keyring) -> None:
        document = rootkeys.root_keyring_to_document(keyring)
        what = f"root keys Secret {self.namespace}/{self.name}"
        try:
            if self._resource_version is None:
                saved = await self._secret.create(document)
            else:
                saved = await self._secret.replace(document, self._resource_version)
        except client.AlreadyExists:
            raise errors.ConflictError(
                f"{what} was created by someone else; load it", None, None
            ) from None
        except client.Conflict:
            raise errors.ConflictError(
                f"{what} changed since it was loaded; load it again", None, None
            ) from None
        self._resource_version = saved
