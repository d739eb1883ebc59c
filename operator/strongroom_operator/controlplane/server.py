"""Compose and start the control-plane HTTP server.

``ControlPlane(storage, key_service, sealing_key, authenticator)`` holds what the handlers
share; ``build_app`` wires routes and middleware; ``start`` serves it (port 0 picks a free
port, handy in tests and dev mode).
"""

from __future__ import annotations

import ssl

from aiohttp import web

from strongroom_operator.controlplane import (
    problems,
    routes_agents,
    routes_audit,
    routes_grants,
    routes_keys,
    routes_watch,
    state,
)

ControlPlane = state.ControlPlane
CONTROL_PLANE = state.CONTROL_PLANE

_health = web.RouteTableDef()


@_health.get("/v1/healthz")
async def healthz(request: web.Request) -> web.Response:
    """Liveness without touching storage: a slow disk must not get replicas restarted."""
    return web.json_response({"status": "ok"})


async def _stop_watches(app: web.Application) -> None:
    app[CONTROL_PLANE].stop_watches()


def build_app(cp: ControlPlane) -> web.Application:
    app = web.Application(
        middlewares=[problems.middleware], client_max_size=cp.settings.max_body_bytes
    )
    app[CONTROL_PLANE] = cp
    for table in (
        _health,
        routes_keys.routes,
        routes_grants.routes,
        routes_watch.routes,
        routes_audit.routes,
        routes_agents.routes,
    ):
        app.router.add_routes(table)
    app.on_shutdown.append(_stop_watches)
    return app


async def start(
    cp: ControlPlane,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> tuple[web.AppRunner, int]:
    """Serve the control plane; returns the runner (``await runner.cleanup()`` to stop) and
    the port actually bound."""
    runner = web.AppRunner(build_app(cp), shutdown_timeout=cp.settings.shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    address = runner.addresses[0]
    return runner, int(address[1])
