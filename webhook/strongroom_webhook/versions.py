"""The API server's version, read at start and again every few minutes (clusters are upgraded
while the webhook runs). An admission review does not carry it, and native sidecars need 1.29."""

from __future__ import annotations

import asyncio
import logging
import re

import aiohttp

from strongroom_kube import client, config
from strongroom_webhook import background

logger = logging.getLogger(__name__)
Version = tuple[int, int]


def parse(body: dict[str, object]) -> Version:
    """``{"major": "1", "minor": "29+"}`` → ``(1, 29)`` (managed clusters add suffixes)."""
    numbers = []
    for key in ("major", "minor"):
        match = re.match(r"\d+", str(body.get(key, "")))
        if match is None:
            raise ValueError(f"/version: {key} {body.get(key)!r} is not a number")
        numbers.append(int(match.group()))
    return numbers[0], numbers[1]


class ServerVersion:
    """``current`` is ``None`` until the first successful read."""

    def __init__(self, api: client.KubeClient, refresh_seconds: float) -> None:
        self._api = api
        self._refresh = refresh_seconds
        self.current: Version | None = None
        self._refresher = background.Loop()

    async def read(self) -> Version | None:
        try:
            self.current = parse(await self._api.get("/version"))
        except (
            client.ApiError,
            config.ConfigError,
            aiohttp.ClientError,
            ValueError,
            OSError,
            TimeoutError,
        ) as e:
            logger.warning("cannot read the Kubernetes version (keeping %s): %s", self.current, e)
        return self.current

    async def start(self) -> None:
        await self.read()
        self._refresher.start(self._refreshing(), "webhook-version-refresh")

    async def stop(self) -> None:
        await self._refresher.stop()

    async def _refreshing(self) -> None:
        while True:
            await asyncio.sleep(self._refresh if self.current else min(self._refresh, 5.0))
            await self.read()
