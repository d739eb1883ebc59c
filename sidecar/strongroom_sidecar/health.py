"""Health and metrics on their own port (15081): ``/healthz``, ``/readyz``, ``/metrics``.

Kept off the proxy port so the kubelet and Prometheus, which reach the pod IP, never need the
loopback-only proxy, and so a flood of proxy calls cannot starve a probe. Nothing served here
carries a secret.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from strongroom_sidecar import audit_buffer, metrics, problems, shedding, state

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Health:
    def __init__(
        self,
        app: state.AppState,
        counters: metrics.Metrics,
        audits: audit_buffer.AuditBuffer,
        limit: shedding.ConcurrencyLimit,
        stopping: Callable[[], bool],
    ) -> None:
        self._app = app
        self._metrics = counters
        self._audits = audits
        self._limit = limit
        self._stopping = stopping

    def web_app(self) -> web.Application:
        application = web.Application()
        application.router.add_get("/healthz", self.healthz)
        application.router.add_get("/readyz", self.readyz)
        application.router.add_get("/metrics", self.metrics)
        return application

    async def healthz(self, request: web.Request) -> web.Response:
        """Liveness: the event loop answers. Never depends on the control plane, so an outage
        there does not get every sidecar restarted."""
        return web.json_response({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        """Ready once the App keys and a full snapshot (``SYNCED``) have arrived; not ready while
        shutting down."""
        missing = []
        if self._app.keyring is None:
            missing.append("keys")
        if not self._app.synced:
            missing.append("first synced snapshot")
        if self._app.policy is None:
            missing.append("compiled policy")
        if self._stopping():
            missing.append("shutting down")
        self._metrics.ready = not missing
        if missing:
            return problems.response(
                problems.Refusal("not_ready", "waiting for: " + ", ".join(missing))
            )
        return web.json_response({"status": "ready", "revision": self._app.revision})

    async def metrics(self, request: web.Request) -> web.Response:
        self._metrics.ready = self._app.ready and not self._stopping()
        text = self._metrics.render(
            audit_depth=self._audits.depth,
            in_flight=self._limit.in_flight,
            shed=self._limit.shed_total,
        )
        return web.Response(body=text.encode(), headers={"Content-Type": METRICS_CONTENT_TYPE})
