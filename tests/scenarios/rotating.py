"""Root and App key rotation with the CLI while the operator runs: every grant stays readable
with the keys the cluster holds, and the Grant stays Ready."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from strongroom_cli import main
from strongroom_core.sealing import credentials
from strongroom_kube import client
from strongroom_operator.controlplane import keyservice
from strongroom_operator.kubestore import rootkeys as kuberootkeys
from strongroom_operator.kubestore import secrets as kubesecrets
from strongroom_operator.kubestore import storage
from tests.scenarios import api as cluster_api
from tests.scenarios import reconciling


async def open_grant(api: cluster_api.ClusterApi, name: str) -> dict[str, str]:
    """The grant's credential, opened as a sidecar would with the App keys the cluster holds."""
    secret = await reconciling.grant_record(api, name)
    assert secret is not None, f"no sealed record for Grant {name}"
    record = kubesecrets.grant_from_secret(secret)
    namespace = api.control_plane_namespace
    async with storage.KubernetesStorage(client.KubeClient(api.kube.cluster), namespace) as store:
        roots = kuberootkeys.KubernetesRootKeyStore(store.kube, namespace)
        keyring = await keyservice.KeyService(store, roots).app_keys(record.namespace, record.app)
    return credentials.open_grant_credential(keyring, record)


async def rotation_keeps_grants_readable(
    api: cluster_api.ClusterApi, cli_target: Sequence[str]
) -> None:
    """``cli_target``: the flags that point `strongroom rotate` at this cluster."""
    token = await reconciling.apply_app_with_a_ready_grant(api)
    assert await open_grant(api, "deploy") == {"token": token}
    for argv in (["rotate", "app", f"{api.namespace}/shop"], ["rotate", "root"]):
        code = await asyncio.to_thread(main.main, [*argv, *cli_target])
        assert code == 0, f"strongroom {' '.join(argv)} exited {code}"
        assert await open_grant(api, "deploy") == {"token": token}
    assert (await api.status("grants", "deploy"))["state"] == "Ready"
