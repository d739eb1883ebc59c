"""One call for a role's startup: find the cluster, open the client, build the storage."""

from __future__ import annotations

import os
from pathlib import Path

from strongroom_kube import client, config
from strongroom_operator.kubestore import storage


def cluster_config(kubeconfig: Path | None = None) -> config.ClusterConfig:
    """``kubeconfig`` if given, else ``$KUBECONFIG`` if set, else the pod's ServiceAccount."""
    if kubeconfig is None and os.environ.get("KUBECONFIG"):
        kubeconfig = Path(os.environ["KUBECONFIG"].split(os.pathsep)[0])
    if kubeconfig is not None:
        return config.from_kubeconfig(kubeconfig)
    return config.in_cluster()


async def open_storage(
    *,
    namespace: str | None = None,
    kubeconfig: Path | None = None,
    audit: storage.AuditStore | None = None,
) -> storage.KubernetesStorage:
    """An open ``KubernetesStorage`` on the control plane's namespace: ``namespace``, else the
    kubeconfig context's or the pod's own. ``await storage.close()`` when done."""
    cluster = cluster_config(kubeconfig)
    chosen = namespace or cluster.namespace
    if not chosen:
        raise config.ConfigError(
            "no namespace for Strongroom's records: pass namespace= (the control plane's)"
        )
    opened = storage.KubernetesStorage(client.KubeClient(cluster), chosen, audit=audit)
    await opened.open()
    return opened
