"""Run a real kopf operator against the emulator inside a test.

``async with running_operator(kube, registry):`` starts ``kopf.operator`` in a task, logged in to
the emulator by a login handler on ``registry`` (so no process-wide KUBECONFIG is needed), and
stops it on exit. kopf runs standalone (no peering) and cluster-wide.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import kopf

from tests.kube import emulator


def connection_info(kube: emulator.KubeEmulator) -> kopf.ConnectionInfo:
    return kopf.ConnectionInfo(
        server=kube.url,
        token=kube.admin_token,
        ca_path=str(kube.ca_file) if kube.ca_file else None,
        scheme="Bearer",
    )


@contextlib.asynccontextmanager
async def running_operator(
    kube: emulator.KubeEmulator,
    registry: kopf.OperatorRegistry,
    *,
    login: bool = True,
    priority: int | None = None,
    **options: Any,
) -> AsyncIterator[asyncio.Task[None]]:
    """``login=False`` leaves login to the registry's own handlers (e.g.
    ``kopf.login_with_kubeconfig`` with ``KUBECONFIG=kube.kubeconfig``). For several replicas:
    ``kube.enable_kopf_peering()`` then ``standalone=False, peering_name="default"`` and a
    ``priority`` each."""
    if login:

        @kopf.on.login(registry=registry)
        def _login(**_: Any) -> kopf.ConnectionInfo:
            return connection_info(kube)

    def tune(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.watching.server_timeout = 10
        settings.watching.reconnect_backoff = 0.1
        settings.posting.enabled = True
        if priority is not None:
            settings.peering.priority = priority

    kopf.on.startup(registry=registry)(tune)
    stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        kopf.operator(
            registry=registry,
            clusterwide=True,
            stop_flag=stop,
            **{"standalone": True, **options},
        )
    )
    try:
        yield task
    finally:
        if not stop.done():
            stop.set_result(None)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)
