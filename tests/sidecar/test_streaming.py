"""Bodies move chunk by chunk both ways; a caller hanging up is not an error."""

from __future__ import annotations

import hashlib
import json
import logging
import tracemalloc
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from strongroom_sidecar import app as sidecar_app
from tests.sidecar import builders
from tests.sidecar.conftest import SidecarFactory, Upstream, World, eventually, proxy_url

SIZE = 20 * 1024 * 1024
# Far below the 20 MiB moved: buffering either body whole would blow through it.
MAX_GROWTH = 6 * 1024 * 1024


@pytest.fixture
async def streaming(world: World, make_sidecar: SidecarFactory) -> sidecar_app.Sidecar:
    await world.add_grant("echo-demo", {"token": "stream-token"})
    return await make_sidecar()


def audit_events(car: sidecar_app.Sidecar) -> list[dict[str, object]]:
    text = car.audit_stream.getvalue()  # type: ignore[attr-defined]
    return [json.loads(line) for line in text.splitlines() if line]


async def test_large_response_is_streamed_without_buffering_it(
    streaming: sidecar_app.Sidecar, upstream: Upstream, http: aiohttp.ClientSession
) -> None:
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        received = 0
        async with http.get(
            proxy_url(streaming),
            headers={
                "Strongroom-Target": upstream.url(f"/big?size={SIZE}"),
                "Strongroom-Grant": "echo-demo",
            },
        ) as response:
            assert response.status == 200
            async for chunk in response.content.iter_chunked(64 * 1024):
                received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == SIZE
    assert peak - baseline < MAX_GROWTH


async def test_large_request_body_is_streamed_without_buffering_it(
    streaming: sidecar_app.Sidecar, upstream: Upstream, http: aiohttp.ClientSession
) -> None:
    chunk = bytes(range(256)) * 256  # 64 KiB
    expected = hashlib.sha256()
    for _ in range(SIZE // len(chunk)):
        expected.update(chunk)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(SIZE // len(chunk)):
            yield chunk

    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        async with http.put(
            proxy_url(streaming),
            headers={"Strongroom-Target": upstream.url("/echo"), "Strongroom-Grant": "echo-demo"},
            data=body(),
        ) as response:
            seen = await response.json()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen["body_size"] == SIZE
    assert seen["body_sha256"] == expected.hexdigest()
    assert seen["headers"]["Authorization"] == "Bearer stream-token"
    assert peak - baseline < MAX_GROWTH


async def test_request_with_content_length_keeps_it_upstream(
    streaming: sidecar_app.Sidecar, upstream: Upstream, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        proxy_url(streaming),
        headers={"Strongroom-Target": upstream.url("/echo"), "Strongroom-Grant": "echo-demo"},
        data=b"x" * 1000,
    ) as response:
        seen = await response.json()
    assert seen["headers"]["Content-Length"] == "1000"
    assert "Transfer-Encoding" not in seen["headers"]


async def test_client_disconnecting_mid_response_is_quiet_and_still_audited(
    streaming: sidecar_app.Sidecar,
    upstream: Upstream,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with aiohttp.ClientSession() as session:
        response = await session.get(
            proxy_url(streaming),
            headers={"Strongroom-Target": upstream.url("/drip"), "Strongroom-Grant": "echo-demo"},
        )
        assert response.status == 200
        await response.content.readany()
        response.close()  # hang up with the body still coming

    def audited() -> bool:
        return any("client_disconnected" in str(e.get("reason")) for e in audit_events(streaming))

    await eventually(audited)
    event = next(e for e in audit_events(streaming) if "client_disconnected" in str(e["reason"]))
    assert event["status"] == 200
    assert event["decision"] == "allow"
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert problems == []


async def test_upstream_failing_mid_response_cuts_the_connection_instead_of_faking_the_end(
    world: World,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "1000000"})
        await response.prepare(request)
        await response.write(b"x" * 1000)
        assert request.transport is not None
        request.transport.close()
        return response

    application = web.Application()
    application.router.add_get("/broken", broken)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    try:
        await world.add_provider("broken", builders.provider_policy([f"127.0.0.1:{port}"]))
        await world.add_grant("broken-grant", {"token": "t"}, provider="broken")
        car = await make_sidecar()
        async with http.get(
            proxy_url(car),
            headers={
                "Strongroom-Target": f"http://127.0.0.1:{port}/broken",
                "Strongroom-Grant": "broken-grant",
            },
        ) as response:
            assert response.status == 200
            with pytest.raises(aiohttp.ClientPayloadError):
                await response.read()
        await eventually(lambda: any("mid-response" in str(e["reason"]) for e in audit_events(car)))
    finally:
        await runner.cleanup()
    assert [r for r in caplog.records if r.exc_info] == []
