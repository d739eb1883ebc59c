"""The shared scenarios (tests/scenarios) against the emulator with the real operator: the
same functions the opt-in real-cluster suite runs (tests/cli_cluster/test_real_cluster.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from strongroom_kube import config
from tests.kube import emulator
from tests.operator import conftest as c
from tests.scenarios import api, reconciling, rotating

Scenario = Callable[[api.ClusterApi], Awaitable[None]]
SCENARIOS = reconciling.SCENARIOS


@contextlib.asynccontextmanager
async def operated(kube: emulator.KubeEmulator) -> AsyncIterator[api.ClusterApi]:
    cluster = config.ClusterConfig(server=kube.url, token=kube.admin_token)
    async with c.operator(kube), api.connect(cluster, "team-a", c.NAMESPACE, 20) as client:
        yield client  # the client closes first: kopf would cancel its connection's task


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
async def test_scenario_on_the_emulator(kube: emulator.KubeEmulator, scenario: Scenario) -> None:
    async with operated(kube) as client:
        await scenario(client)


async def test_root_and_app_rotation_keep_grants_readable_on_the_emulator(
    kube: emulator.KubeEmulator,
) -> None:
    target = ["--kubeconfig", str(kube.kubeconfig), "--control-plane-namespace", c.NAMESPACE]
    async with operated(kube) as client:
        await rotating.rotation_keeps_grants_readable(client, target)


async def test_a_scenario_that_waits_in_vain_says_what_it_waited_for(
    kube: emulator.KubeEmulator,
) -> None:
    cluster = config.ClusterConfig(server=kube.url, token=kube.admin_token)
    async with api.connect(cluster, "team-a", c.NAMESPACE, 0.3) as client:
        with pytest.raises(AssertionError, match="waited 0s for Grant nowhere in state Ready"):
            await reconciling.grant_state(client, "nowhere", "Ready")
