"""Forwarding to the upstream: one pooled client session, bodies streamed both ways.

Never follows redirects: a 3xx goes back to the caller untouched (``Location`` included), so a
credential can never be carried to a host the allow list did not approve. Neither body is held
in memory: chunks move as they arrive, and backpressure on one side pauses the other.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import yarl
from aiohttp import web
from multidict import CIMultiDict

from strongroom_sidecar import headers, logs, metrics, problems
from strongroom_sidecar import settings as settings_module

log = logs.get("forwarding")

CHUNK = 64 * 1024
# aiohttp adds these unless told not to; the upstream should see the caller's own.
_SKIP_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


@dataclass(slots=True)
class Outcome:
    """What happened upstream, for audit."""

    status: int = 0
    reason: str = ""
    upstream_seconds: float = 0.0


class Forwarder:
    def __init__(
        self, settings: settings_module.SidecarSettings, counters: metrics.Metrics
    ) -> None:
        self._settings = settings
        self._metrics = counters
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._settings.max_concurrency, ttl_dns_cache=60),
            timeout=aiohttp.ClientTimeout(
                total=None,
                sock_connect=self._settings.upstream_connect_timeout,
                sock_read=self._settings.upstream_timeout,
            ),
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def forward(
        self,
        request: web.Request,
        url: yarl.URL,
        outgoing: CIMultiDict[str],
        audit_id: str,
        outcome: Outcome,
    ) -> web.StreamResponse:
        """Send the call upstream and stream the answer back. Raises a refusal
        (``upstream_error``/``upstream_timeout``) only while nothing was answered yet."""
        assert self._session is not None, "Forwarder.open() was not called"
        started = time.monotonic()
        try:
            upstream = await self._session.request(
                request.method,
                url,
                headers=outgoing,
                data=_body(request) if request.body_exists else None,
                allow_redirects=False,
                skip_auto_headers=_SKIP_AUTO_HEADERS,
            )
        except TimeoutError:
            raise problems.Refusal(
                "upstream_timeout",
                f"{url.host} did not answer within {self._settings.upstream_timeout:g}s "
                f"(connect timeout {self._settings.upstream_connect_timeout:g}s)",
            ) from None
        except (aiohttp.ClientError, OSError) as e:
            raise problems.Refusal(
                "upstream_error", f"{url.host}: {type(e).__name__}; check the target and retry"
            ) from None
        outcome.upstream_seconds = time.monotonic() - started
        self._metrics.upstream_latency.observe(outcome.upstream_seconds)
        outcome.status = upstream.status
        try:
            return await _relay(request, upstream, audit_id, outcome)
        finally:
            upstream.release()


async def _relay(
    request: web.Request,
    upstream: aiohttp.ClientResponse,
    audit_id: str,
    outcome: Outcome,
) -> web.StreamResponse:
    response = web.StreamResponse(
        status=upstream.status,
        reason=upstream.reason,
        headers=headers.response_headers(upstream.headers),
    )
    response.headers[headers.AUDIT_ID] = audit_id
    try:
        await response.prepare(request)
    except ConnectionError:
        outcome.reason = "client_disconnected"
        return response
    while True:
        try:
            chunk = await upstream.content.readany()
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            # Too late for a problem answer: cut the connection so the caller sees a truncated
            # body, never one that looks complete.
            outcome.reason = f"upstream_error mid-response ({type(e).__name__})"
            _abort(request)
            return response
        if not chunk:
            break
        try:
            await response.write(chunk)
        except ConnectionError:
            outcome.reason = "client_disconnected"
            return response
    try:
        await response.write_eof()
    except ConnectionError:
        outcome.reason = "client_disconnected"
    return response


async def _body(request: web.Request) -> AsyncIterator[bytes]:
    async for chunk in request.content.iter_chunked(CHUNK):
        yield chunk


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()
