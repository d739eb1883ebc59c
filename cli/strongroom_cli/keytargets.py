"""Where `strongroom rotate` and `strongroom key` find the root keyring and the records.

Rotation and backup need the root keyring itself, which only the control plane's namespace
holds, so they do not go through the control plane's API (which never hands out key material):

- dev mode (default): the state folder (``--state-dir``, default ``./.strongroom``): the SQLite
  database and the root keys file;
- a cluster (``--kubeconfig PATH``, or ``--cluster`` for ``$KUBECONFIG`` / in-cluster): the
  Kubernetes storage and the root keys Secret in ``--control-plane-namespace``, with the user's
  own credentials. The RBAC this needs is in docs/operations.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

from strongroom_cli import devstate
from strongroom_core.sealing import rootkeys
from strongroom_core.storage import ports, sqlite
from strongroom_kube import config
from strongroom_operator.kubestore import connecting
from strongroom_operator.kubestore import rootkeys as kuberootkeys

DEFAULT_CONTROL_PLANE_NAMESPACE = "strongroom-system"


class TargetError(Exception):
    """The keyring's location cannot be used; the message names the flag."""


@dataclasses.dataclass(frozen=True)
class KeyTarget:
    storage: ports.Storage
    root_store: rootkeys.RootKeyStore
    description: str
    """Where, for messages: ``dev state .strongroom`` or ``cluster ..., namespace ...``."""
    cluster: bool = False
    """On a cluster (the Kubernetes storage, which keeps no audit) rather than dev state."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("where the keys are (default: the dev state folder)")
    where.add_argument(
        "--state-dir",
        type=Path,
        default=devstate.DEFAULT_STATE_DIR,
        help="dev mode's state folder (default ./.strongroom)",
    )
    where.add_argument("--kubeconfig", type=Path, help="act on the cluster of this kubeconfig")
    where.add_argument(
        "--cluster",
        action="store_true",
        help="act on the cluster of $KUBECONFIG (or the pod's own ServiceAccount)",
    )
    where.add_argument(
        "--control-plane-namespace",
        default=DEFAULT_CONTROL_PLANE_NAMESPACE,
        help=f"the control plane's namespace (default {DEFAULT_CONTROL_PLANE_NAMESPACE})",
    )
    where.add_argument(
        "--root-keys-secret",
        default=kuberootkeys.DEFAULT_NAME,
        help=f"the root keys Secret (default {kuberootkeys.DEFAULT_NAME})",
    )


@contextlib.asynccontextmanager
async def open_target(args: argparse.Namespace) -> AsyncIterator[KeyTarget]:
    if args.kubeconfig is not None or args.cluster:
        try:
            opened = await connecting.open_storage(
                namespace=args.control_plane_namespace, kubeconfig=args.kubeconfig
            )
        except config.ConfigError as e:
            raise TargetError(f"--kubeconfig: {e}") from None
        try:
            store = kuberootkeys.KubernetesRootKeyStore(
                opened.kube, opened.namespace, args.root_keys_secret
            )
            yield KeyTarget(
                opened,
                store,
                f"cluster {opened.kube.cluster.server}, Secret"
                f" {opened.namespace}/{args.root_keys_secret}",
                cluster=True,
            )
        finally:
            await opened.close()
        return
    state = devstate.DevState(args.state_dir)
    if not state.root.is_dir():
        raise TargetError(
            f"--state-dir {args.state_dir}: no dev state folder there; run `strongroom dev`"
            " first, or pass --kubeconfig PATH / --cluster for a cluster"
        )
    async with sqlite.SqliteStorage(state.database) as dev_storage:
        yield KeyTarget(
            dev_storage,
            rootkeys.FileRootKeyStore(state.root_keys),
            f"dev state {args.state_dir}",
        )
