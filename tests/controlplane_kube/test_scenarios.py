"""The shared sidecar-authentication scenarios (tests/scenarios/authenticating.py) with the
shared ``worlds.ApiWorld`` against the emulator and the real control plane: the same code the
opt-in real-cluster suite runs, there through TokenRequest and the service proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from strongroom_kube import config
from strongroom_operator.controlplane import command
from tests.controlplane_kube import pods
from tests.kube import emulator
from tests.scenarios import api, authenticating, worlds


@pytest.fixture
async def world(
    cluster: emulator.KubeEmulator, control_plane: command.Running, client: aiohttp.ClientSession
) -> AsyncIterator[worlds.ApiWorld]:
    settings = config.ClusterConfig(server=cluster.url, token=cluster.admin_token)
    namespace = emulator.CONTROL_PLANE_NAMESPACE
    async with api.connect(settings, pods.NAMESPACE, namespace, 10) as cluster_api:
        found = worlds.ApiWorld(cluster_api, client, pods.SIDECAR_IMAGE, control_plane.url)
        await found.prepare()
        yield found


@pytest.mark.parametrize(
    "refusal", authenticating.REFUSALS, ids=[r.name for r in authenticating.REFUSALS]
)
async def test_refusal_scenario_on_the_emulator(
    world: worlds.ApiWorld, refusal: authenticating.Refusal
) -> None:
    await authenticating.is_refused(world, refusal)


async def test_acceptance_scenario_on_the_emulator(world: worlds.ApiWorld) -> None:
    await authenticating.the_injected_sidecar_is_accepted(world)


def test_the_service_proxy_url_names_the_control_planes_https_port() -> None:
    url = worlds.service_proxy_url("https://k8s:6443", "strongroom-system")
    assert url == (
        "https://k8s:6443/api/v1/namespaces/strongroom-system"
        "/services/https:strongroom-controlplane:8443/proxy"
    )
