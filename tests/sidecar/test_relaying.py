"""How an answer goes back: a body that is complete (or small and announced) as one response,
anything else streamed; the upstream's status and headers either way."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from strongroom_sidecar import app as sidecar_app
from tests.sidecar import builders
from tests.sidecar.conftest import SidecarFactory, World, eventually, proxy_url


async def _late_sized(request: web.Request) -> web.StreamResponse:
    """Headers first, the announced 5-byte body a moment later."""
    response = web.StreamResponse(headers={"Content-Length": "5", "X-Upstream": "late"})
    await response.prepare(request)
    await asyncio.sleep(0.05)
    await response.write(b"hello")
    await response.write_eof()
    return response


async def _late_chunked(request: web.Request) -> web.StreamResponse:
    """No length: chunked, with a pause between the headers and each chunk."""
    response = web.StreamResponse()
    await response.prepare(request)
    for part in (b"one,", b"two"):
        await asyncio.sleep(0.02)
        await response.write(part)
    await response.write_eof()
    return response


async def _sized(request: web.Request) -> web.Response:
    return web.Response(body=b"0123456789", headers={"ETag": '"v1"'})


async def _not_modified(request: web.Request) -> web.Response:
    return web.Response(status=304, headers={"ETag": '"v1"', "Cache-Control": "max-age=60"})


async def _short(request: web.Request) -> web.StreamResponse:
    """Announces 10 bytes, sends 3, then hangs up."""
    response = web.StreamResponse(headers={"Content-Length": "10"})
    await response.prepare(request)
    await response.write(b"abc")
    assert request.transport is not None
    request.transport.close()
    return response


@pytest.fixture
async def relaying(
    world: World, make_sidecar: SidecarFactory
) -> AsyncIterator[tuple[sidecar_app.Sidecar, int]]:
    application = web.Application()
    application.router.add_get("/late-sized", _late_sized)
    application.router.add_get("/late-chunked", _late_chunked)
    application.router.add_get("/sized", _sized)
    application.router.add_get("/not-modified", _not_modified)
    application.router.add_get("/short", _short)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    try:
        await world.add_provider("relay", builders.provider_policy([f"127.0.0.1:{port}"]))
        await world.add_grant("relay-grant", {"token": "t"}, provider="relay")
        yield await make_sidecar(), port
    finally:
        await runner.cleanup()


def _headers(port: int, path: str) -> dict[str, str]:
    return {
        "Strongroom-Target": f"http://127.0.0.1:{port}{path}",
        "Strongroom-Grant": "relay-grant",
    }


async def test_small_body_arriving_after_the_headers_comes_back_whole_with_its_length(
    relaying: tuple[sidecar_app.Sidecar, int], http: aiohttp.ClientSession
) -> None:
    car, port = relaying
    async with http.get(proxy_url(car), headers=_headers(port, "/late-sized")) as response:
        assert response.status == 200
        assert response.headers["Content-Length"] == "5"
        assert response.headers["X-Upstream"] == "late"
        assert "Strongroom-Audit-Id" in response.headers
        assert await response.read() == b"hello"


async def test_chunked_body_still_arriving_is_streamed_through(
    relaying: tuple[sidecar_app.Sidecar, int], http: aiohttp.ClientSession
) -> None:
    car, port = relaying
    async with http.get(proxy_url(car), headers=_headers(port, "/late-chunked")) as response:
        assert response.status == 200
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert await response.read() == b"one,two"


async def test_head_keeps_the_upstreams_content_length_without_a_body(
    relaying: tuple[sidecar_app.Sidecar, int], http: aiohttp.ClientSession
) -> None:
    car, port = relaying
    async with http.head(proxy_url(car), headers=_headers(port, "/sized")) as response:
        assert response.status == 200
        assert response.headers["Content-Length"] == "10"
        assert response.headers["ETag"] == '"v1"'
        assert await response.read() == b""


async def test_not_modified_keeps_the_upstreams_headers_without_a_body(
    relaying: tuple[sidecar_app.Sidecar, int], http: aiohttp.ClientSession
) -> None:
    car, port = relaying
    async with http.get(proxy_url(car), headers=_headers(port, "/not-modified")) as response:
        assert response.status == 304
        assert response.headers["ETag"] == '"v1"'
        assert response.headers["Cache-Control"] == "max-age=60"
        assert await response.read() == b""


async def test_small_body_cut_short_upstream_is_cut_short_for_the_caller_too(
    relaying: tuple[sidecar_app.Sidecar, int], http: aiohttp.ClientSession
) -> None:
    car, port = relaying
    async with http.get(proxy_url(car), headers=_headers(port, "/short")) as response:
        assert response.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()

    def audited() -> bool:
        text = car.audit_stream.getvalue()  # type: ignore[attr-defined]
        events = [json.loads(line) for line in text.splitlines() if line]
        return any("mid-response" in str(e["reason"]) for e in events)

    await eventually(audited)
