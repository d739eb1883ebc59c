"""The echo upstream dev mode starts on 127.0.0.1:15090.

It answers every request with JSON: the method, the path, the names of the headers it got and
whether the expected credential arrived (``credential_ok``) — never a header value, so showing its
answer in a terminal or a test log leaks nothing.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from aiohttp import web

_CREDENTIAL: web.AppKey[str] = web.AppKey("credential", str)


@dataclass(frozen=True, slots=True)
class EchoServer:
    runner: web.AppRunner
    port: int

    async def stop(self) -> None:
        await self.runner.cleanup()


def build_app(credential: str) -> web.Application:
    """``credential`` is the token the echo provider's grant carries; held in memory only."""
    app = web.Application()
    app[_CREDENTIAL] = credential
    app.router.add_route("*", "/{tail:.*}", _echo)
    return app


async def start(credential: str, host: str = "127.0.0.1", port: int = 15090) -> EchoServer:
    runner = web.AppRunner(build_app(credential), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    return EchoServer(runner=runner, port=int(bound))


async def _echo(request: web.Request) -> web.Response:
    expected = f"Bearer {request.app[_CREDENTIAL]}"
    got = request.headers.get("Authorization", "")
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "path": request.path,
            "headers": sorted({name.lower() for name in request.headers}),
            "body_bytes": len(body),
            "credential_ok": hmac.compare_digest(got.encode(), expected.encode()),
        }
    )
