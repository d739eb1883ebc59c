"""Forwarding to the upstream: one pooled client session, bodies streamed both ways.

Never follows redirects: a 3xx goes back to the caller untouched (``Location`` included), so a
credential can never be carried to a host the allow list did not approve. Neither body is held
in memory whole: chunks move as they arrive, and backpressure on one side pauses the other —
except that a call to an OAuth2 provider holds a request body up to ``retry_body_limit`` (see
:func:`read_for_retry`), so it can be sent again after a 401 and a token refresh, and that an
answer whose body is already complete, or announced at most :data:`WHOLE_BODY_LIMIT` long, goes
back as one ``Response`` (status line, headers and body in one write).
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
WHOLE_BODY_LIMIT = 64 * 1024
"""An upstream body announced at most this long (``Content-Length``) is read whole and answered
in one write; longer or chunked bodies that have not fully arrived with the headers stream."""
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
            # Given once here rather than per request, where aiohttp would build the set anew.
            skip_auto_headers=_SKIP_AUTO_HEADERS,
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
    answer_headers = headers.response_headers(upstream.headers)
    answer_headers[headers.AUDIT_ID] = audit_id
    content = upstream.content
    try:
        if content.is_eof():
            # The usual small JSON answer arrived with its headers (always so for HEAD, 204
            # and 304): nothing left to wait for.
            body = content.read_nowait(-1)
        elif upstream.content_length is not None and upstream.content_length <= WHOLE_BODY_LIMIT:
            body = await content.read()
        else:
            return await _stream(request, upstream, answer_headers, outcome)
    except (aiohttp.ClientError, TimeoutError, OSError) as e:
        return await _cut(request, upstream, answer_headers, outcome, e)
    # One ``Response`` sends the status line, the headers and the body in a single write, where
    # a ``StreamResponse`` sends the headers on their own first: one syscall less per call.
    # The upstream's headers are kept as they are, so HEAD keeps its ``Content-Length``.
    response = web.Response(
        status=upstream.status, reason=upstream.reason, headers=answer_headers, body=body
    )
    try:
        await response.prepare(request)
        await response.write_eof()
    except ConnectionError:
        outcome.reason = "client_disconnected"
    return response


async def _stream(
    request: web.Request,
    upstream: aiohttp.ClientResponse,
    answer_headers: CIMultiDict[str],
    outcome: Outcome,
) -> web.StreamResponse:
    """A large or open-ended body: the headers go out at once, then chunks as they arrive."""
    response, client_there = await _send_head(request, upstream, answer_headers, outcome)
    if not client_there:
        return response
    while True:
        try:
            chunk = await upstream.content.readany()
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            _cut_short(request, outcome, e)
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


async def _cut(
    request: web.Request,
    upstream: aiohttp.ClientResponse,
    answer_headers: CIMultiDict[str],
    outcome: Outcome,
    error: BaseException,
) -> web.StreamResponse:
    """The upstream failed while its (small) body was read: send its status and headers, then
    cut, as streaming would have."""
    response, client_there = await _send_head(request, upstream, answer_headers, outcome)
    if client_there:
        _cut_short(request, outcome, error)
    return response


async def _send_head(
    request: web.Request,
    upstream: aiohttp.ClientResponse,
    answer_headers: CIMultiDict[str],
    outcome: Outcome,
) -> tuple[web.StreamResponse, bool]:
    """The upstream's status line and headers sent on their own, the body to follow; and
    whether the client was still there (if not, ``outcome.reason`` says so)."""
    response = web.StreamResponse(
        status=upstream.status, reason=upstream.reason, headers=answer_headers
    )
    try:
        await response.prepare(request)
    except ConnectionError:
        outcome.reason = "client_disconnected"
        return response, False
    return response, True


def _cut_short(request: web.Request, outcome: Outcome, error: BaseException) -> None:
    # Too late for a problem answer: cut the connection so the caller sees a truncated body,
    # never one that looks complete.
    outcome.reason = f"upstream_error mid-response ({type(error).__name__})"
    _abort(request)


async def _body(request: web.Request, prefix: bytes = b"") -> AsyncIterator[bytes]:
    if prefix:
        yield prefix
    async for chunk in request.content.iter_chunked(CHUNK):
        yield chunk


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()
