"""Load generator for bench/proxy.py, run in its own process: raw keep-alive HTTP/1.1 on asyncio.

Two modes:

- ``open`` (the latency numbers): sends are scheduled at fixed times (``rate`` per second) and
  every request is timed from its *scheduled* send time, not from when a connection became free.
  A server that stalls therefore gets charged for every request that should have gone out during
  the stall (no coordinated omission, unlike a closed loop such as wrk's).
- ``closed`` (fallback for max req/s when wrk is not installed): ``connections`` connections,
  each sends its next request as soon as the previous answer arrived.

The last line on stdout is one JSON object with the results. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import threading
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    """Seconds from scheduled send to the last byte of the answer (measurement window only)."""
    send_lags: list[float] = field(default_factory=list)
    """Seconds between a request's scheduled time and the moment it was written."""
    completed: int = 0
    non_2xx: int = 0
    errors: int = 0


class Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self, generator: Generator) -> None:
        self._generator = generator
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._scheduled: float | None = None
        self._counted = False
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def send(self, scheduled: float, counted: bool) -> None:
        assert self._transport is not None
        self._scheduled = scheduled
        self._counted = counted
        self._transport.write(self._generator.request)
        if counted:
            self._generator.results.send_lags.append(time.perf_counter() - scheduled)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._scheduled is not None:
            parsed = _parse_response(self._buffer)
            if parsed is None:
                return
            status, consumed = parsed
            del self._buffer[:consumed]
            done = time.perf_counter()
            scheduled, counted = self._scheduled, self._counted
            self._scheduled = None
            self._generator.on_answer(self, status, done - scheduled, counted)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._scheduled is not None:
            self._generator.on_failure(self._counted)
            self._scheduled = None
        if not self.closed.done():
            self.closed.set_result(None)
        self._generator.on_closed(self)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def _parse_response(buffer: bytearray) -> tuple[int, int] | None:
    """(status, bytes consumed) once a whole response is in ``buffer``; ``None`` before."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    length = 0
    chunked = False
    for line in head[1:]:
        name, _, value = line.partition(":")
        lowered = name.strip().lower()
        if lowered == "content-length":
            length = int(value.strip())
        elif lowered == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    body_start = end + 4
    if not chunked:
        if len(buffer) < body_start + length:
            return None
        return status, body_start + length
    position = body_start
    while True:  # chunked: walk the chunks until the zero-length one and its trailer end
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
        position = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n", position)
            if trailer_end < 0:
                return None
            return status, trailer_end + 2
        position += size + 2
        if position > len(buffer):
            return None


class Generator:
    def __init__(self, port: int, path: str, headers: list[str], max_connections: int) -> None:
        lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}", *headers, "", ""]
        self.request = "\r\n".join(lines).encode("latin-1")
        self.port = port
        self.max_connections = max_connections
        self.results = Results()
        self._idle: list[Connection] = []
        self._all: set[Connection] = set()
        self._opening = 0
        self._opening_tasks: set[asyncio.Future[None]] = set()
        self._backlog: collections.deque[tuple[float, bool]] = collections.deque()
        self._closed_loop = False
        self._closed_loop_until = 0.0
        self._outstanding = 0
        self._drained = asyncio.Event()

    async def open_connections(self, count: int) -> None:
        await asyncio.gather(*(self._open() for _ in range(count)))

    async def _open(self) -> None:
        self._opening += 1
        try:
            loop = asyncio.get_running_loop()
            _, connection = await loop.create_connection(lambda: Connection(self), HOST, self.port)
        except OSError:
            self.results.errors += 1
            return
        finally:
            self._opening -= 1
        self._all.add(connection)
        self._became_idle(connection)

    def submit(self, scheduled: float, counted: bool) -> None:
        self._outstanding += 1
        self._drained.clear()
        if self._idle:
            self._idle.pop().send(scheduled, counted)
            return
        self._backlog.append((scheduled, counted))
        if len(self._all) + self._opening < self.max_connections:
            task = asyncio.ensure_future(self._open())
            self._opening_tasks.add(task)
            task.add_done_callback(self._opening_tasks.discard)

    def _became_idle(self, connection: Connection) -> None:
        if self._backlog:
            scheduled, counted = self._backlog.popleft()
            connection.send(scheduled, counted)
        elif self._closed_loop and time.perf_counter() < self._closed_loop_until:
            self._outstanding += 1
            connection.send(time.perf_counter(), True)
        else:
            self._idle.append(connection)

    def on_answer(self, connection: Connection, status: int, seconds: float, counted: bool) -> None:
        self._outstanding -= 1
        if counted:
            self.results.completed += 1
            self.results.latencies.append(seconds)
            if not 200 <= status < 300:
                self.results.non_2xx += 1
        if self._outstanding == 0:
            self._drained.set()
        self._became_idle(connection)

    def on_failure(self, counted: bool) -> None:
        self._outstanding -= 1
        if counted:
            self.results.errors += 1
        if self._outstanding == 0:
            self._drained.set()

    def on_closed(self, connection: Connection) -> None:
        self._all.discard(connection)
        if connection in self._idle:
            self._idle.remove(connection)

    async def run_open(self, rate: float, duration: float, warmup: float) -> float:
        """Schedule ``rate``/s for ``warmup + duration`` seconds; only the window after the
        warm-up is counted. Returns the measured window's length.

        The schedule is kept by a thread sleeping with ``time.sleep`` (sub-millisecond
        precision) that wakes the event loop for each send: asyncio's own timers wake up to
        1 ms late (epoll takes milliseconds), which would add ~0.5 ms to every request."""
        loop = asyncio.get_running_loop()
        interval = 1.0 / rate
        start = time.perf_counter() + 0.05
        warm = int(warmup * rate)
        total = warm + int(duration * rate)
        finished = loop.create_future()

        def due(i: int) -> None:
            self.submit(start + i * interval, i >= warm)
            if i == total - 1:
                finished.set_result(None)

        def tick() -> None:
            for i in range(total):
                delay = start + i * interval - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                loop.call_soon_threadsafe(due, i)

        ticker = threading.Thread(target=tick, name="loadgen-schedule", daemon=True)
        ticker.start()
        await finished
        ticker.join()
        return duration

    async def run_closed(self, duration: float, warmup: float) -> float:
        self._closed_loop = True
        self._closed_loop_until = time.perf_counter() + warmup
        # Warm-up: the loop runs uncounted by marking those answers as not counted.
        for connection in list(self._idle):
            self._idle.remove(connection)
            self._outstanding += 1
            connection.send(time.perf_counter(), False)
        await asyncio.sleep(warmup)
        self.results = Results()
        began = time.perf_counter()
        self._closed_loop_until = began + duration
        await asyncio.sleep(duration)
        return time.perf_counter() - began

    async def drain(self, timeout: float) -> None:
        if self._outstanding:
            try:
                await asyncio.wait_for(self._drained.wait(), timeout)
            except TimeoutError:
                self.results.errors += self._outstanding + len(self._backlog)

    async def close(self) -> None:
        for connection in list(self._all):
            connection.close()
        await asyncio.gather(*(c.closed for c in list(self._all)), return_exceptions=True)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, int(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def summary(results: Results, window: float) -> dict[str, float | int]:
    latencies = sorted(results.latencies)
    lags = sorted(results.send_lags)
    ms = 1000.0
    return {
        "completed": results.completed,
        "non_2xx": results.non_2xx,
        "errors": results.errors,
        "rps": round(results.completed / window, 1) if window > 0 else 0.0,
        "p50_ms": round(percentile(latencies, 0.50) * ms, 3),
        "p90_ms": round(percentile(latencies, 0.90) * ms, 3),
        "p99_ms": round(percentile(latencies, 0.99) * ms, 3),
        "max_ms": round((latencies[-1] if latencies else float("nan")) * ms, 3),
        "send_lag_p99_ms": round(percentile(lags, 0.99) * ms, 3),
    }


async def main_async(args: argparse.Namespace) -> dict[str, float | int]:
    generator = Generator(args.port, args.path, args.header, args.max_connections)
    await generator.open_connections(args.connections)
    try:
        if args.mode == "open":
            window = await generator.run_open(args.rate, args.duration, args.warmup)
        else:
            window = await generator.run_closed(args.duration, args.warmup)
        await generator.drain(timeout=10.0)
    finally:
        await generator.close()
    return summary(generator.results, window)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("open", "closed"), default="open")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--rate", type=float, default=500.0, help="open loop: requests/s")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="uncounted seconds first")
    parser.add_argument("--connections", type=int, default=16, help="opened up front")
    parser.add_argument(
        "--max-connections", type=int, default=256, help="open loop: more are opened on demand"
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args))), flush=True)


if __name__ == "__main__":
    main()
