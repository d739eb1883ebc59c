"""Shared constants and helpers of the control-plane tests."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import aiohttp
from aiohttp import web

from strongroom_core.sealing import publickey, rootkeys
from strongroom_core.storage import records, sqlite
from strongroom_operator.controlplane import auth, keyservice, server
from tests import canary

SIDECAR_TOKEN = canary.new("sidecar-shop")
OTHER_SIDECAR_TOKEN = canary.new("sidecar-blog")
ADMIN_TOKEN = canary.new("admin")

CALLERS = {
    SIDECAR_TOKEN: auth.Caller("sidecar", "shop-pod", "team-a", "shop"),
    OTHER_SIDECAR_TOKEN: auth.Caller("sidecar", "blog-pod", "team-a", "blog"),
    ADMIN_TOKEN: auth.Caller("admin", "cli"),
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


SIDECAR = bearer(SIDECAR_TOKEN)
OTHER_SIDECAR = bearer(OTHER_SIDECAR_TOKEN)
ADMIN = bearer(ADMIN_TOKEN)


@dataclasses.dataclass
class Harness:
    storage: sqlite.SqliteStorage
    root_store: rootkeys.FileRootKeyStore
    key_service: keyservice.KeyService
    sealing_key: publickey.SealingKey
    control_plane: server.ControlPlane
    url: str
    client: aiohttp.ClientSession
    runner: web.AppRunner


def make_grant(
    name: str = "g1", app: str = "shop", namespace: str = "team-a"
) -> records.GrantRecord:
    return records.GrantRecord(
        namespace=namespace,
        name=name,
        uid=f"uid-{name}",
        app=app,
        provider="github",
        principal_kind="user",
        principal_id="alice",
        sealed="sr1.kid.nonce.ciphertext",
        scopes=("repo",),
    )


async def problem_of(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """The problem document of an error response, checking its media type."""
    assert response.content_type == "application/problem+json"
    text = await response.text()
    assert not canary.found_in(text), "a secret reached a problem document"
    body: dict[str, Any] = json.loads(text)
    assert body["status"] == response.status
    return body


class WatchStream:
    """Reads a watch response line by line, failing instead of hanging when nothing comes."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, timeout: float = 10.0) -> dict[str, Any]:
        line = await asyncio.wait_for(self.response.content.readline(), timeout)
        assert line, "the watch stream ended"
        assert not canary.found_in(line.decode()), "a secret reached the watch stream"
        event: dict[str, Any] = json.loads(line)
        return event

    async def next_skipping_heartbeats(self) -> dict[str, Any]:
        while True:
            event = await self.next()
            if event["type"] != "HEARTBEAT":
                return event

    async def take(self, count: int) -> list[dict[str, Any]]:
        return [await self.next_skipping_heartbeats() for _ in range(count)]
