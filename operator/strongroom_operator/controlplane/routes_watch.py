"""``GET /v1/apps/{namespace}/{app}/watch?since=N``: the App's grants and policy as a stream of
newline-delimited JSON events.

A pump task reads the storage's watch into a bounded queue; the handler writes what it takes,
and a ``HEARTBEAT`` when nothing came for ``heartbeat_seconds``. Taking from a queue can be
abandoned on a timeout safely, which the storage's async iterator cannot.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging

from aiohttp import web

from strongroom_core import protocol
from strongroom_core.storage import errors as storage_errors
from strongroom_core.storage import ports, records
from strongroom_operator.controlplane import bodies, state, watching

logger = logging.getLogger("strongroom.controlplane")

routes = web.RouteTableDef()

CONTENT_TYPE = "application/x-ndjson"

_End = BaseException | None


class _Wake:
    """Queued on shutdown so a stream waiting for changes notices at once."""


def _wake(queue: asyncio.Queue[records.Change | _End | _Wake]) -> None:
    with contextlib.suppress(asyncio.QueueFull):  # a full queue is read soon anyway
        queue.put_nowait(_Wake())


def _line(event: protocol.WatchEvent) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode("utf-8") + b"\n"


async def _pump(
    storage: ports.Storage,
    namespace: str,
    app: str,
    since: int,
    queue: asyncio.Queue[records.Change | _End | _Wake],
) -> None:
    changes = storage.watch(namespace, app, since)
    end: _End = None
    try:
        async with contextlib.aclosing(changes):  # type: ignore[type-var]
            async for change in changes:
                await queue.put(change)
    except Exception as e:
        end = e
    await queue.put(end)


@routes.get("/v1/apps/{namespace}/{app}/watch")
async def watch(request: web.Request) -> web.StreamResponse:
    cp = state.of(request)
    namespace, app = request.match_info["namespace"], request.match_info["app"]
    await cp.app_caller(request, namespace, app, admin=True)
    since = bodies.query_int(request, "since", 0, 0, 2**63 - 1)
    first: list[protocol.WatchEvent] = []
    if since == 0:
        snapshot = await watching.take_snapshot(
            cp.storage, namespace, app, cp.settings.snapshot_attempts
        )
        first = watching.snapshot_events(snapshot)
        since = snapshot.revision
    elif isinstance(cp.storage, watching.RevisionChecker):
        await cp.storage.check_revision(since)  # RevisionGoneError → 410 by the middleware

    response = web.StreamResponse(
        headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    queue: asyncio.Queue[records.Change | _End | _Wake] = asyncio.Queue(
        cp.settings.watch_queue_size
    )
    pump = asyncio.create_task(_pump(cp.storage, namespace, app, since, queue))
    wake = functools.partial(_wake, queue)
    cp.watch_wakers.add(wake)
    last = since
    try:
        for event in first:
            await response.write(_line(event))
        while not cp.stopping.is_set():
            try:
                item = await asyncio.wait_for(queue.get(), cp.settings.heartbeat_seconds)
            except TimeoutError:
                await response.write(_line(watching.heartbeat(last)))
                continue
            if isinstance(item, _Wake):
                continue
            if not isinstance(item, records.Change):
                _log_end(namespace, app, item)
                break
            last = item.revision
            await response.write(_line(watching.change_event(item)))
    except ConnectionError:
        # The client went away; nothing more to write to.
        return response
    finally:
        cp.watch_wakers.discard(wake)
        pump.cancel()
        await asyncio.wait([pump])
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response


def _log_end(namespace: str, app: str, end: _End) -> None:
    if isinstance(end, storage_errors.RevisionGoneError):
        logger.info("watch of %s/%s ended: the client fell behind the log", namespace, app)
    elif end is not None:
        logger.error("watch of %s/%s failed: %s", namespace, app, type(end).__name__)
