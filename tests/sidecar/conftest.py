"""End-to-end fixtures: the real control plane on SQLite, a real upstream on loopback, and
sidecars started against them. Records are sealed with core sealing like the operator does."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from strongroom_core import policy
from strongroom_core.sealing import appkeys, credentials, keys, publickey, rootkeys
from strongroom_core.storage import ports, records, sqlite
from strongroom_operator.controlplane import auth, keyservice, server
from strongroom_sidecar import app as sidecar_app
from strongroom_sidecar import settings
from tests import canary
from tests.sidecar import builders

NS, APP = builders.NAMESPACE, builders.APP
SIDECAR_TOKEN = canary.new("cp-token")
ADMIN_TOKEN = canary.new("admin-token")


class _RootKeys:
    def __init__(self, keyring: keys.Keyring) -> None:
        self.keyring = keyring

    async def load(self) -> keys.Keyring:
        return self.keyring


class ControlPlane:
    """The real control-plane server; can be stopped and started again on the same port. Any
    storage: tests/refresh runs it on Kubernetes storage too (test_race.py overrides
    ``storage``)."""

    def __init__(self, storage: ports.Storage, root: keys.Keyring) -> None:
        self.storage = storage
        self.root = _RootKeys(root)
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        cp = server.ControlPlane(
            self.storage,
            keyservice.KeyService(self.storage, self.root),
            publickey.SealingKey.generate(),
            auth.StaticTokenAuthenticator(
                {
                    SIDECAR_TOKEN: auth.Caller("sidecar", "pod/test", NS, APP),
                    ADMIN_TOKEN: auth.Caller("admin", "admin"),
                }
            ),
        )
        self._runner, self.port = await server.start(cp, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class World:
    """The App's stored state, written through storage like the operator would."""

    def __init__(self, storage: sqlite.SqliteStorage, root: keys.Keyring) -> None:
        self.storage = storage
        self.root = root
        self.providers: dict[str, policy.ProviderPolicy] = {}
        self.unlisted: set[str] = set()
        """Grants left out of the compiled policy."""
        self._digests = itertools.count(1)

    async def init(self) -> None:
        body = appkeys.new_app_keys_document(self.root, NS, APP)
        await self.storage.put_document(NS, APP, "keys", body, None)

    async def app_keyring(self) -> keys.Keyring:
        document = await self.storage.get_document(NS, APP, "keys")
        assert document is not None
        return appkeys.unwrap_app_keys(self.root, document.body, NS, APP)

    async def rotate_app_key(self) -> keys.Keyring:
        document = await self.storage.get_document(NS, APP, "keys")
        assert document is not None
        body = appkeys.add_app_key(self.root, document.body, NS, APP)
        await self.storage.put_document(NS, APP, "keys", body, document.version)
        return await self.app_keyring()

    async def put_policy(self) -> None:
        """Compile a policy from the providers and the stored grants (but ``unlisted``)."""
        grants = [g for g in await self.storage.list_grants(NS, APP) if g.name not in self.unlisted]
        body = dict(builders.compiled_policy(self.providers, grants, str(next(self._digests))))
        current = await self.storage.get_document(NS, APP, "policy")
        await self.storage.put_document(
            NS, APP, "policy", body, None if current is None else current.version
        )

    async def add_provider(self, name: str, wire: policy.ProviderPolicy) -> None:
        self.providers[name] = wire
        await self.put_policy()

    async def add_grant(
        self,
        name: str,
        credential: dict[str, str] | None,
        *,
        provider: str = "echo",
        listed: bool = True,
        **fields: Any,
    ) -> records.GrantRecord:
        record = builders.grant(name, provider=provider, sealed="", version=0, **fields)
        if credential is not None:
            keyring = await self.app_keyring()
            record = dataclasses.replace(
                record, sealed=credentials.seal_for_record(keyring.active, record, credential)
            )
        stored = await self.storage.create_grant(record)
        if not listed:
            self.unlisted.add(name)
        await self.put_policy()
        return stored

    async def reseal(self, name: str, credential: dict[str, str]) -> records.GrantRecord:
        current = await self.storage.get_grant(NS, name)
        assert current is not None
        keyring = await self.app_keyring()
        updated = dataclasses.replace(
            current,
            sealed=credentials.seal_for_record(keyring.active, current, credential),
            generation=current.generation + 1,
        )
        return await self.storage.replace_grant(updated, current.version)

    async def set_state(self, name: str, **changes: Any) -> None:
        current = await self.storage.get_grant(NS, name)
        assert current is not None
        await self.storage.replace_grant(dataclasses.replace(current, **changes), current.version)


@dataclasses.dataclass
class Upstream:
    port: int
    seen: list[dict[str, Any]]
    release: asyncio.Event

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def _echo(request: web.Request) -> web.Response:
    size = 0
    digest = hashlib.sha256()
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        digest.update(chunk)
    seen = {
        "method": request.method,
        "path_qs": request.path_qs,
        "query": dict(request.query),
        "headers": dict(request.headers),
        "body_size": size,
        "body_sha256": digest.hexdigest(),
    }
    request.app[SEEN].append(seen)
    return web.json_response(seen)


async def _redirect(request: web.Request) -> web.Response:
    request.app[SEEN].append({"path_qs": request.path_qs, "headers": dict(request.headers)})
    return web.Response(status=302, headers={"Location": "https://evil.example.com/steal?x=1"})


async def _big(request: web.Request) -> web.StreamResponse:
    size = int(request.query["size"])
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    await response.prepare(request)
    chunk = b"x" * (64 * 1024)
    sent = 0
    while sent < size:
        piece = chunk[: size - sent]
        await response.write(piece)
        sent += len(piece)
    await response.write_eof()
    return response


async def _drip(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    try:
        for _ in range(200):
            await response.write(b"tick\n" * 1000)
            await asyncio.sleep(0.01)
    except ConnectionError:
        pass
    return response


async def _wait(request: web.Request) -> web.Response:
    request.app[SEEN].append({"path_qs": request.path_qs})
    await request.app[RELEASE].wait()
    return web.Response(text="released")


async def _status(request: web.Request) -> web.Response:
    return web.Response(status=int(request.match_info["code"]), text="upstream says so")


SEEN = web.AppKey("seen", list)
RELEASE = web.AppKey("release", asyncio.Event)


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    application = web.Application(client_max_size=0)
    application[SEEN] = []
    application[RELEASE] = asyncio.Event()
    application.router.add_route("*", "/echo", _echo)
    application.router.add_route("*", "/echo/{tail:.*}", _echo)
    application.router.add_get("/redirect", _redirect)
    application.router.add_get("/big", _big)
    application.router.add_get("/drip", _drip)
    application.router.add_get("/wait", _wait)
    application.router.add_get("/status/{code}", _status)
    runner = web.AppRunner(application, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    yield Upstream(port, application[SEEN], application[RELEASE])
    application[RELEASE].set()
    await runner.cleanup()


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[sqlite.SqliteStorage]:
    store = sqlite.SqliteStorage(tmp_path / "strongroom.sqlite", poll_interval=0.05)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def root_keyring() -> keys.Keyring:
    return rootkeys.new_root_keyring()


@pytest.fixture
async def world(
    storage: sqlite.SqliteStorage, root_keyring: keys.Keyring, upstream: Upstream
) -> World:
    w = World(storage, root_keyring)
    await w.init()
    await w.add_provider("echo", builders.provider_policy([f"127.0.0.1:{upstream.port}"]))
    return w


@pytest.fixture
async def control_plane(
    storage: ports.Storage, root_keyring: keys.Keyring
) -> AsyncIterator[ControlPlane]:
    cp = ControlPlane(storage, root_keyring)
    await cp.start()
    yield cp
    await cp.stop()


SidecarFactory = Callable[..., Awaitable[sidecar_app.Sidecar]]


@pytest.fixture
async def make_sidecar(control_plane: ControlPlane) -> AsyncIterator[SidecarFactory]:
    started: list[sidecar_app.Sidecar] = []

    async def make(*, wait_ready: bool = True, **overrides: Any) -> sidecar_app.Sidecar:
        values: dict[str, Any] = {
            "control_plane_url": control_plane.url,
            "namespace": NS,
            "app": APP,
            "caller": "pod/billing-test",
            "control_plane_token": SIDECAR_TOKEN,
            "proxy_port": 0,
            "health_port": 0,
            "health_host": "127.0.0.1",
            "allow_loopback_targets": True,
            "audit_flush_interval": 0.05,
            "audit_retry_max": 0.2,
            "watch_retry_max": 0.2,
            "upstream_timeout": 5.0,
            "shutdown_grace": 2.0,
        }
        values.update(overrides)
        audit_stream = io.StringIO()
        car = sidecar_app.Sidecar(settings.SidecarSettings(**values), audit_stream=audit_stream)
        car.audit_stream = audit_stream  # type: ignore[attr-defined]
        await car.start()
        started.append(car)
        if wait_ready:
            await car.wait_ready()
        return car

    yield make
    for car in started:
        await car.stop()


@pytest.fixture
async def sidecar(make_sidecar: SidecarFactory, world: World) -> sidecar_app.Sidecar:
    return await make_sidecar()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


async def eventually(check: Callable[[], Awaitable[bool] | bool], within: float = 10.0) -> None:
    """Wait until ``check()`` is true (polling); fails the test after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def caught_up(car: sidecar_app.Sidecar, store: sqlite.SqliteStorage) -> None:
    """Wait until the sidecar has applied every change written so far."""
    target = await store.current_revision()
    await eventually(lambda: car.state.revision >= target)


def proxy_url(car: sidecar_app.Sidecar) -> str:
    return f"http://127.0.0.1:{car.proxy_port}/proxy"


def health_url(car: sidecar_app.Sidecar, path: str) -> str:
    return f"http://127.0.0.1:{car.health_port}{path}"
