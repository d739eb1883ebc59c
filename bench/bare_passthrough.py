"""A bare aiohttp pass-through that only adds a header: the yardstick issue 3 grounds its aims in.

``GET /<path>`` is forwarded to ``http://127.0.0.1:<upstream port>/<path>`` through one pooled
``aiohttp.ClientSession`` with a static Authorization header added; the whole answer is read and
returned in one ``web.Response``. No policy, no audit, no streaming, no limits: whatever the real
sidecar costs beyond this is Strongroom's own work. Run by bench/proxy.py (``--no-bare`` skips
it) in its own process; serves until SIGTERM.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
SESSION: web.AppKey[aiohttp.ClientSession] = web.AppKey("session", aiohttp.ClientSession)
UPSTREAM: web.AppKey[str] = web.AppKey("upstream", str)


async def forward(request: web.Request) -> web.Response:
    outgoing = {k: v for k, v in request.headers.items() if k.lower() not in ("host",)}
    outgoing["Authorization"] = "Bearer static-bench-value"
    async with request.app[SESSION].get(
        request.app[UPSTREAM] + request.path_qs, headers=outgoing, allow_redirects=False
    ) as upstream:
        body = await upstream.read()
        headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        return web.Response(status=upstream.status, body=body, headers=headers)


async def session_context(app: web.Application) -> AsyncIterator[None]:
    app[SESSION] = aiohttp.ClientSession(auto_decompress=False)
    yield
    await app[SESSION].close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app[UPSTREAM] = f"http://127.0.0.1:{args.upstream_port}"
    app.cleanup_ctx.append(session_context)
    app.router.add_route("GET", "/{tail:.*}", forward)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
