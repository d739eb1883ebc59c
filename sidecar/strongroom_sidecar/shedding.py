"""Load shedding: a hard cap on calls in flight, answered at once when reached.

Queueing would only turn overload into timeouts inside the app; an immediate ``503 overloaded``
with ``Retry-After`` lets the caller back off. The counter also tells shutdown when the last
in-flight call has finished.
"""

from __future__ import annotations

import asyncio


class ConcurrencyLimit:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self.shed_total = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def try_acquire(self) -> bool:
        """Take a slot if one is free; never waits."""
        if self.in_flight >= self.limit:
            self.shed_total += 1
            return False
        self.in_flight += 1
        self._idle.clear()
        return True

    def release(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self._idle.set()

    async def wait_idle(self, grace: float) -> bool:
        """Wait until no call is in flight; ``False`` if ``grace`` seconds passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            return False
        return True
