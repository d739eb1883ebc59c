"""The opt-in suite against a real cluster (``pytest -m cluster``, needs ``KUBECONFIG`` and
Strongroom installed by the chart in ``STRONGROOM_NAMESPACE``, default ``strongroom-system``).
Skipped cleanly everywhere else; the same scenarios run against the emulator in
tests/controlplane_kube and tests/cli_cluster."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from strongroom_cli import main
from strongroom_operator.kubestore import connecting

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        not os.environ.get("KUBECONFIG"), reason="needs a real cluster: set KUBECONFIG"
    ),
]

NAMESPACE = os.environ.get("STRONGROOM_NAMESPACE", "strongroom-system")


async def test_the_root_keyring_exists_in_the_control_planes_namespace() -> None:
    storage = await connecting.open_storage(namespace=NAMESPACE)
    try:
        secret = await storage.kube.request(
            "GET", f"/api/v1/namespaces/{NAMESPACE}/secrets/strongroom-root-keys"
        )
    finally:
        await storage.close()
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


async def test_a_root_rotation_on_the_cluster_finishes(tmp_path: Path) -> None:
    argv = ["rotate", "root", "--cluster", "--control-plane-namespace", NAMESPACE]
    assert await asyncio.to_thread(main.main, argv) == 0


async def test_export_writes_a_private_backup(tmp_path: Path) -> None:
    out = tmp_path / "backup.json"
    argv = ["key", "export", "--out", str(out), "--cluster"]
    assert await asyncio.to_thread(main.main, [*argv, "--control-plane-namespace", NAMESPACE]) == 0
    assert out.stat().st_mode & 0o077 == 0
