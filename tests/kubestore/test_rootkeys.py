"""The root keyring in a Secret: created once, compare-and-swap, never deleted."""

from __future__ import annotations

import pytest

from strongroom_core.sealing import errors as sealing_errors
from strongroom_core.sealing import rootkeys
from strongroom_core.storage import errors
from strongroom_kube import client
from strongroom_operator.kubestore import rootkeys as kuberootkeys
from tests.kube import emulator
from tests.kubestore import conftest

NAMESPACE = emulator.CONTROL_PLANE_NAMESPACE


def store_on(kube_client: client.KubeClient) -> kuberootkeys.KubernetesRootKeyStore:
    return kuberootkeys.KubernetesRootKeyStore(kube_client, NAMESPACE)


async def test_first_start_creates_the_keyring_and_later_starts_load_it(
    kube: emulator.KubeEmulator,
) -> None:
    async with client.KubeClient(conftest.cluster_of(kube)) as kube_client:
        created = await rootkeys.load_or_create(store_on(kube_client))
        loaded = await rootkeys.load_or_create(store_on(kube_client))
    assert loaded.active.kid == created.active.kid
    secret = kube.get("secrets", kuberootkeys.DEFAULT_NAME, NAMESPACE)
    assert secret is not None
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


async def test_a_missing_keyring_is_reported_as_missing(kube: emulator.KubeEmulator) -> None:
    async with client.KubeClient(conftest.cluster_of(kube)) as kube_client:
        with pytest.raises(rootkeys.RootKeysMissingError, match=kuberootkeys.DEFAULT_NAME):
            await store_on(kube_client).load()


async def test_two_replicas_starting_at_once_cannot_both_create_one(
    kube: emulator.KubeEmulator,
) -> None:
    async with client.KubeClient(conftest.cluster_of(kube)) as kube_client:
        first, second = store_on(kube_client), store_on(kube_client)
        await first.save(rootkeys.new_root_keyring())
        with pytest.raises(errors.ConflictError, match="load it"):
            await second.save(rootkeys.new_root_keyring())
        kept = await second.load()
        assert kept.active.kid == (await first.load()).active.kid


async def test_saving_over_a_keyring_changed_since_loading_is_refused(
    kube: emulator.KubeEmulator,
) -> None:
    async with client.KubeClient(conftest.cluster_of(kube)) as kube_client:
        first, second = store_on(kube_client), store_on(kube_client)
        await rootkeys.load_or_create(first)
        await second.load()
        await first.save(rootkeys.new_root_keyring())
        with pytest.raises(errors.ConflictError, match="load it again"):
            await second.save(rootkeys.new_root_keyring())


async def test_an_unreadable_keyring_says_to_restore_a_backup(
    kube: emulator.KubeEmulator,
) -> None:
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": kuberootkeys.DEFAULT_NAME, "namespace": NAMESPACE},
            "data": {},
        }
    )
    async with client.KubeClient(conftest.cluster_of(kube)) as kube_client:
        with pytest.raises(sealing_errors.MalformedKeyDocumentError, match="backup"):
            await store_on(kube_client).load()
        with pytest.raises(sealing_errors.MalformedKeyDocumentError):
            await rootkeys.load_or_create(store_on(kube_client))  # never replaced by a new one
