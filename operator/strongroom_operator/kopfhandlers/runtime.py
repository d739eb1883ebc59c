"""What the handlers share, built once at operator startup: the Kubernetes storage, the root
keyring (created on first start if absent, never deleted), the sealing key, the reconcile
context (the same one dev mode builds, over other ports) and the policy publisher."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from strongroom_core.resources import models
from strongroom_core.sealing import rootkeys
from strongroom_core.storage import errors as storage_errors
from strongroom_kube import client
from strongroom_operator.controlplane import keyservice
from strongroom_operator.kopfhandlers import cabundles, kubeio, publishing
from strongroom_operator.kopfhandlers import settings as operator_settings
from strongroom_operator.kubestore import connecting, sealingkeys, storage
from strongroom_operator.kubestore import rootkeys as kuberootkeys
from strongroom_operator.reconcile import agents, context


@dataclasses.dataclass
class Runtime:
    settings: operator_settings.OperatorSettings
    storage: storage.KubernetesStorage
    root_store: kuberootkeys.KubernetesRootKeyStore
    ctx: context.ReconcileContext
    publisher: publishing.PolicyPublisher
    ca_bundles: cabundles.CaBundles
    clock: Callable[[], float] = time.time

    @property
    def kube(self) -> client.KubeClient:
        return self.storage.kube

    @classmethod
    async def start(cls, config: operator_settings.OperatorSettings) -> Runtime:
        opened = await connecting.open_storage(
            namespace=config.namespace, kubeconfig=config.kubeconfig
        )
        try:
            root_store = kuberootkeys.KubernetesRootKeyStore(opened.kube, config.namespace)
            await _root_keys(root_store)
            sealing_key = await sealingkeys.KubernetesSealingKeyStore(
                opened.kube, config.namespace
            ).load_or_create()
            ctx = context.ReconcileContext(
                storage=opened,
                key_service=keyservice.KeyService(opened, root_store),
                sealing_key=sealing_key,
                secrets=kubeio.KubeSecrets(opened.kube),
            )

            async def deliver(agent: models.Agent, key: agents.IssuedKey) -> None:
                await kubeio.write_agent_key_secret(
                    opened.kube, agent, key.plaintext, key.kid, rotated_for=None
                )

            ca_bundles = cabundles.CaBundles(
                opened.kube,
                config.ca_source,
                config.ca_configmap,
                max_age=config.ca_check_seconds,
            )
            publisher = publishing.PolicyPublisher(ctx, deliver)
            return cls(config, opened, root_store, ctx, publisher, ca_bundles)
        except BaseException:
            await opened.close()
            raise

    async def close(self) -> None:
        await self.storage.close()


async def _root_keys(store: kuberootkeys.KubernetesRootKeyStore) -> None:
    """Create the root keyring on first start; a replica that lost the creation race loads
    the winner's (the store is compare-and-swap)."""
    try:
        await rootkeys.load_or_create(store)
    except storage_errors.ConflictError:
        await store.load()
