"""Keeping the served certificate current, one keeper per TLS mode, both with the same shape:
``start()`` loads a certificate (or fails: the webhook must not serve without one), then a task
checks every ``interval`` and reloads on change; ``stop()`` ends it.

- :class:`SelfManaged` syncs the shared Secret (rotating what is due) and the ``caBundle``;
- :class:`Mounted` (cert-manager, a user Secret) watches ``tls.crt``/``tls.key`` in a mounted
  folder; a kubelet update swaps a symlink, so ``stat`` (which follows it) sees the change.
  A half-written or mismatched pair is skipped and tried again on the next tick.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path

import aiohttp

from strongroom_kube import client, config
from strongroom_webhook import background
from strongroom_webhook.certs import authority, serving, sharing

logger = logging.getLogger(__name__)


class _Keeper:
    def __init__(self, context: serving.ServingContext, interval: float) -> None:
        self.context = context
        self.interval = interval
        self._running = background.Loop()

    async def check(self) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        await self.check()
        self._running.start(self._loop(), f"webhook-tls-{type(self).__name__}")

    async def stop(self) -> None:
        await self._running.stop()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except (
                client.ApiError,
                config.ConfigError,
                aiohttp.ClientError,
                OSError,
                ssl.SSLError,
                TimeoutError,
            ) as e:
                logger.warning("webhook TLS check failed (serving the current certificate): %s", e)


class SelfManaged(_Keeper):
    def __init__(
        self, context: serving.ServingContext, shared: sharing.SharedTls, interval: float
    ) -> None:
        super().__init__(context, interval)
        self.shared = shared

    async def check(self) -> None:
        state = await self.shared.sync()
        self.context.load_pair(state.serving)


class Mounted(_Keeper):
    def __init__(self, context: serving.ServingContext, directory: Path, interval: float) -> None:
        super().__init__(context, interval)
        self.cert, self.key = directory / "tls.crt", directory / "tls.key"
        self._seen: tuple[object, ...] | None = None

    def _signature(self) -> tuple[object, ...]:
        stats = [p.stat() for p in (self.cert, self.key)]
        return tuple((s.st_mtime_ns, s.st_size, s.st_ino) for s in stats)

    async def check(self) -> None:
        signature = self._signature()
        if signature == self._seen:
            return
        pair = authority.KeyPair(self.cert.read_bytes(), self.key.read_bytes())
        if self.context.load_pair(pair):
            logger.info("loaded the webhook certificate from %s", self.cert.parent)
        self._seen = signature
