"""kopf's health endpoint (``--liveness``), which the chart's liveness and readiness probes call:
it answers once startup has finished, with the operator's own probe."""

from __future__ import annotations

import aiohttp

from strongroom_operator.kopfhandlers import main, wiring
from tests.devfixtures import free_port
from tests.kube import emulator, kopfrun
from tests.operator import conftest as c


async def test_the_health_endpoint_answers_with_the_operators_probe(
    kube: emulator.KubeEmulator,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/healthz"
    config = c.test_settings(kube, liveness_endpoint=url)
    registry = wiring.build_registry(config)
    async with (
        kopfrun.running_operator(kube, registry, **main.kopf_options(config)),
        aiohttp.ClientSession() as session,
    ):

        async def healthy() -> object:
            try:
                async with session.get(url) as response:
                    return response.status == 200 and await response.json()
            except aiohttp.ClientConnectionError:
                return False  # not serving until startup has finished

        answer = await c.until_async(healthy)
    assert answer == {"operator": c.NAMESPACE}
