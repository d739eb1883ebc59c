"""``Sidecar``: composes the parts and owns their lifecycle (what ``strongroom dev`` and
``main`` start).

Start order: open clients, start the audit delivery, bind both ports, then sync in the
background — the health port answers (not ready) while the control plane is still away.
Stop order: stop accepting, let in-flight calls finish (up to ``shutdown_grace``), stop the
watch, flush the audit buffer, close the clients.
"""

from __future__ import annotations

import asyncio
import time
from typing import TextIO

from aiohttp import web

from strongroom_sidecar import (
    audit_buffer,
    controlplane_client,
    credentials,
    forwarding,
    health,
    identities,
    logs,
    metrics,
    proxy,
    refreshing,
    shedding,
    state,
    watching,
)
from strongroom_sidecar import settings as settings_module

log = logs.get("app")


class Sidecar:
    def __init__(
        self, settings: settings_module.SidecarSettings, *, audit_stream: TextIO | None = None
    ) -> None:
        """``audit_stream`` receives the audit JSON lines instead of stdout (dev mode, tests)."""
        self.settings = settings
        self.metrics = metrics.Metrics()
        self.state = state.AppState(settings.namespace, settings.app)
        self.client = controlplane_client.ControlPlaneClient(settings)
        self.credentials = credentials.Credentials(self.state, self.client, self.metrics)
        self.audit = audit_buffer.AuditBuffer(settings, self.client, self.metrics, audit_stream)
        self.limit = shedding.ConcurrencyLimit(settings.max_concurrency)
        self.forwarder = forwarding.Forwarder(settings, self.metrics)
        self.refresher = refreshing.Refresher(
            settings, self.state, self.client, self.credentials, self.audit
        )
        self.watcher = watching.Watcher(
            self.state,
            self.client,
            self.credentials,
            self.metrics,
            retry_max=settings.watch_retry_max,
        )
        self.identity = identities.Identity(settings)
        self._proxy = proxy.Proxy(
            settings,
            self.state,
            self.credentials,
            self.forwarder,
            self.audit,
            self.limit,
            self.metrics,
            self.refresher,
            self.identity,
        )
        self._health = health.Health(
            self.state, self.metrics, self.audit, self.limit, lambda: self._stopping
        )
        self._proxy_runner: web.AppRunner | None = None
        self._health_runner: web.AppRunner | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._stopping = False
        self.proxy_port = 0
        """The bound proxy port (meaningful after ``start()``; useful with port 0)."""
        self.health_port = 0
        """The bound health port (meaningful after ``start()``)."""

    @property
    def ready(self) -> bool:
        return self.state.ready and not self._stopping

    async def start(self) -> None:
        await self.client.open()
        await self.forwarder.open()
        await self.refresher.open()
        await self.identity.fetcher.open()
        self.audit.start()
        grace = self.settings.shutdown_grace
        self._proxy_runner, self.proxy_port = await _serve(
            self._proxy.web_app(), self.settings.listen_host, self.settings.proxy_port, grace
        )
        self._health_runner, self.health_port = await _serve(
            self._health.web_app(), self.settings.health_host, self.settings.health_port, 1.0
        )
        self._watch_task = asyncio.create_task(self.watcher.run(), name="strongroom-watch")
        self.refresher.start()
        log.info(
            "sidecar started",
            extra={
                "fields": {
                    "namespace": self.settings.namespace,
                    "app": self.settings.app,
                    "proxy": f"{self.settings.listen_host}:{self.proxy_port}",
                    "health_port": self.health_port,
                }
            },
        )

    async def wait_ready(self, within: float = 10.0) -> None:
        """Wait until ready (tests and dev mode); ``TimeoutError`` after ``within`` seconds."""
        deadline = time.monotonic() + within
        while not self.ready:
            if time.monotonic() > deadline:
                raise TimeoutError("the sidecar did not become ready")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Graceful: stop accepting, finish in flight, flush audit."""
        self._stopping = True
        grace = self.settings.shutdown_grace
        deadline = time.monotonic() + grace
        if self._proxy_runner is not None:
            # Closes the listening socket first, then waits for handlers still running.
            await self._proxy_runner.cleanup()
            self._proxy_runner = None
        await self.limit.wait_idle(max(0.0, deadline - time.monotonic()))
        if self._watch_task is not None:
            self._watch_task.cancel()
            await asyncio.gather(self._watch_task, return_exceptions=True)
            self._watch_task = None
        await self.refresher.close()
        await self.credentials.close()
        await self.audit.close(max(1.0, deadline - time.monotonic()))
        if self._health_runner is not None:
            await self._health_runner.cleanup()
            self._health_runner = None
        await self.forwarder.close()
        await self.identity.fetcher.close()
        await self.client.close()
        log.info("sidecar stopped")

    async def __aenter__(self) -> Sidecar:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def _serve(
    application: web.Application, host: str, port: int, grace: float
) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(
        application, access_log=None, handle_signals=False, shutdown_timeout=grace
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    return runner, int(bound)
