"""Forwarding to the upstream: one pooled client session, bodies streamed both ways.

Never follows redirects: a 3xx goes back to the caller untouched (``Location`` included), so a
credential can never be carried to a host the allow list did not approve. Neither body is held
in memory: chunks move as they arrive, and backpressure on one side pauses the other — except
that a call to an OAuth2 provider holds a request body up to ``retry_body_limit`` (see
:func:`read_for_retry`), so it can be sent again after a 401 and a token refresh.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
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


@dataclass(frozen=True, slots=True)
class RetryBody:
    """A request body read ahead for a possible retry. ``complete`` is false when it was larger
    than the limit: ``data`` is then only its start, the rest still streams from the caller,
    and the call cannot be retried."""

    data: bytes
    complete: bool


async def read_for_retry(request: web.Request, limit: int) -> RetryBody:
    """Read up to ``limit`` bytes of the body (all of it when it fits)."""
    if not request.body_exists:
        return RetryBody(b"", True)
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await request.content.readany()
        if not chunk:
            return RetryBody(b"".join(parts), True)
        parts.append(chunk)
        size += len(chunk)
    return RetryBody(b"".join(parts), False)


Unauthorized = Callable[[], Awaitable[bool]]
"""Called when the upstream answered 401, before anything reached the caller: ``True`` drops
that answer (the caller retries with a refreshed token), ``False`` relays it."""


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
        *,
        body: RetryBody | None = None,
        on_unauthorized: Unauthorized | None = None,
    ) -> web.StreamResponse | None:
        """Send the call upstream and stream the answer back. Raises a refusal
        (``upstream_error``/``upstream_timeout``) only while nothing was answered yet. ``None``
        when the upstream said 401 and ``on_unauthorized`` chose to retry."""
        assert self._session is not None, "Forwarder.open() was not called"
        started = time.monotonic()
        data: bytes | AsyncIterator[bytes] | None = None
        if body is not None:
            data = body.data if body.complete else _body(request, body.data)
        elif request.body_exists:
            data = _body(request)
        try:
            upstream = await self._session.request(
                request.method,
                url,
                headers=outgoing,
                data=data,
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
            if upstream.status == 401 and on_unauthorized is not None and await on_unauthorized():
                return None
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


async def _body(request: web.Request, prefix: bytes = b"") -> AsyncIterator[bytes]:
    if prefix:
        yield prefix
    async for chunk in request.content.iter_chunked(CHUNK):
        yield chunk


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()
