"""The webhook's background loops (TLS checks, the API server's version): each runs as one task
started with the server, and stopping it cancels the task and waits until it has ended, so no
check is left half done when the process exits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class Loop:
    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self, loop: Coroutine[Any, Any, None], name: str) -> None:
        self._task = asyncio.create_task(loop, name=name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
