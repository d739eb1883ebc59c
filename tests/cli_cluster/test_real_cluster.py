"""The opt-in suite against a real cluster (``pytest -m cluster``): the scenarios of
tests/scenarios — the same functions the emulator tests run (tests/operator/
test_operator_scenarios.py, tests/controlplane_kube/test_scenarios.py) — plus the CLI's key
commands. Skipped cleanly where there is no cluster.

What it needs:

- ``KUBECONFIG``: a kubeconfig whose user has a token (``token`` or ``tokenFile``): the
  project's Kubernetes client refuses client certificates and exec plugins. For kind, e.g. a
  cluster-admin ServiceAccount's ``kubectl create token`` in a copy of the kubeconfig;
- Strongroom installed by the chart in ``STRONGROOM_NAMESPACE`` (default ``strongroom-system``);
- for the sidecar-authentication scenarios, ``STRONGROOM_SIDECAR_IMAGE``: the sidecar image the
  chart gave the control plane (its ``--sidecar-image``), and the control plane reachable
  through the API server's service proxy (its NetworkPolicy must admit the API server:
  ``controlPlane.networkPolicy.extraIngressFrom``, or a CNI that enforces none).

Each test works in a namespace of its own (``strongroom-scenario-<random>``), deleted at the end
(its Grants go through the operator's finalizer).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from strongroom_cli import main
from strongroom_kube import config
from strongroom_operator.kubestore import connecting
from tests.scenarios import api, authenticating, reconciling, rotating, worlds

KUBECONFIG = os.environ.get("KUBECONFIG", "")
NAMESPACE = os.environ.get("STRONGROOM_NAMESPACE", "strongroom-system")
SIDECAR_IMAGE = os.environ.get("STRONGROOM_SIDECAR_IMAGE", "")
TIMEOUT = float(os.environ.get("STRONGROOM_SCENARIO_TIMEOUT", "120"))

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        not KUBECONFIG,
        reason="needs a real cluster with Strongroom installed: set KUBECONFIG (pytest -m cluster)",
    ),
]
needs_sidecar_image = pytest.mark.skipif(
    bool(KUBECONFIG) and not SIDECAR_IMAGE,
    reason="set STRONGROOM_SIDECAR_IMAGE to the sidecar image the control plane accepts",
)


@pytest.fixture
async def cluster() -> AsyncIterator[api.ClusterApi]:
    namespace = f"strongroom-scenario-{secrets.token_hex(4)}"
    settings = config.from_kubeconfig(Path(KUBECONFIG))
    async with api.connect(settings, namespace, NAMESPACE, TIMEOUT) as client:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        await client.kube.request("POST", "/api/v1/namespaces", body=body)
        try:
            yield client
        finally:
            await client.kube.request("DELETE", f"/api/v1/namespaces/{namespace}")


@pytest.mark.parametrize(
    "scenario", reconciling.SCENARIOS, ids=[s.__name__ for s in reconciling.SCENARIOS]
)
async def test_scenario_on_the_cluster(
    cluster: api.ClusterApi, scenario: Callable[[api.ClusterApi], Awaitable[None]]
) -> None:
    await scenario(cluster)


async def test_root_and_app_rotation_keep_grants_readable_on_the_cluster(
    cluster: api.ClusterApi,
) -> None:
    target = ["--cluster", "--control-plane-namespace", NAMESPACE]
    await rotating.rotation_keeps_grants_readable(cluster, target)


@pytest.fixture
async def world(cluster: api.ClusterApi) -> AsyncIterator[worlds.ApiWorld]:
    settings = cluster.kube.cluster
    url = worlds.service_proxy_url(settings.server, NAMESPACE)
    async with aiohttp.ClientSession() as session:
        found = worlds.ApiWorld(cluster, session, SIDECAR_IMAGE, url, settings.ssl_context())
        await found.prepare()
        yield found


@needs_sidecar_image
@pytest.mark.parametrize(
    "refusal", authenticating.REFUSALS, ids=[r.name for r in authenticating.REFUSALS]
)
async def test_refusal_scenario_on_the_cluster(
    world: worlds.ApiWorld, refusal: authenticating.Refusal
) -> None:
    await authenticating.is_refused(world, refusal)


@needs_sidecar_image
async def test_acceptance_scenario_on_the_cluster(world: worlds.ApiWorld) -> None:
    await authenticating.the_injected_sidecar_is_accepted(world)


async def test_the_root_keyring_exists_in_the_control_planes_namespace() -> None:
    storage = await connecting.open_storage(namespace=NAMESPACE)
    try:
        secret = await storage.kube.request(
            "GET", f"/api/v1/namespaces/{NAMESPACE}/secrets/strongroom-root-keys"
        )
    finally:
        await storage.close()
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


async def test_export_writes_a_private_backup(tmp_path: Path) -> None:
    out = tmp_path / "backup.json"
    argv = ["key", "export", "--out", str(out), "--cluster"]
    assert await asyncio.to_thread(main.main, [*argv, "--control-plane-namespace", NAMESPACE]) == 0
    assert out.stat().st_mode & 0o077 == 0
