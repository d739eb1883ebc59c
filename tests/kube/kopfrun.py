"""Run real kopf operators against the emulator inside a test.

``async with running_operator(kube, registry):`` starts ``kopf.operator`` in a task, logged in to
the emulator by a login handler on ``registry`` (so no process-wide KUBECONFIG is needed), and
stops it on exit. kopf runs cluster-wide and, unless told otherwise, standalone (no peering).

Several replicas: ``kube.enable_kopf_peering()``, then ``running_operators(kube, Replica(...),
Replica(...))`` with ``standalone=False, peering_name="default"`` and a priority each. They stop
together: a stopping kopf waits up to 5 s for every task of the event loop it did not start,
which includes the other replicas' tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
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


@dataclasses.dataclass
class Replica:
    registry: kopf.OperatorRegistry
    login: bool = True
    """False leaves login to the registry's own handlers (e.g. ``kopf.login_with_kubeconfig``
    with ``KUBECONFIG=kube.kubeconfig``)."""
    priority: int | None = None
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    """More ``kopf.operator`` keywords (``standalone``, ``peering_name``, ...)."""


def _prepare(kube: emulator.KubeEmulator, replica: Replica) -> None:
    if replica.login:

        @kopf.on.login(registry=replica.registry)
        def _login(**_: Any) -> kopf.ConnectionInfo:
            return connection_info(kube)

    def tune(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.watching.server_timeout = 10
        settings.watching.reconnect_backoff = 0.1
        settings.posting.enabled = True
        if replica.priority is not None:
            settings.peering.priority = replica.priority

    kopf.on.startup(registry=replica.registry)(tune)


@contextlib.asynccontextmanager
async def running_operators(
    kube: emulator.KubeEmulator, *replicas: Replica
) -> AsyncIterator[list[asyncio.Task[None]]]:
    stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    tasks = []
    for replica in replicas:
        _prepare(kube, replica)
        options = {"standalone": True, **replica.options}
        tasks.append(
            asyncio.create_task(
                kopf.operator(
                    registry=replica.registry, clusterwide=True, stop_flag=stop, **options
                )
            )
        )
    try:
        yield tasks
    finally:
        if not stop.done():
            stop.set_result(None)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.gather(*tasks), 15)


@contextlib.asynccontextmanager
async def running_operator(
    kube: emulator.KubeEmulator,
    registry: kopf.OperatorRegistry,
    *,
    login: bool = True,
    priority: int | None = None,
    **options: Any,
) -> AsyncIterator[asyncio.Task[None]]:
    """One operator; see :class:`Replica` for the arguments."""
    replica = Replica(registry, login, priority, options)
    async with running_operators(kube, replica) as tasks:
        yield tasks[0]
