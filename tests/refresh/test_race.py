"""The refresh race against the real authorization server (npm ``oidc-provider``), which rotates
refresh tokens and revokes the whole grant when a consumed one is presented again.

Five real sidecars on one real control plane, on each storage (SQLite, and Kubernetes on the
project's emulator: claims are then compare-and-swaps on a Secret's resourceVersion); bursts of
200 concurrent calls spread over them on an expired token. Exactly one token-endpoint call per
expiry, zero ``invalid_grant``, every call served. The API at the other end verifies every
access token (signature against the server's JWKS, issuer, audience, expiry), so a call served
with a token the server did not issue, or one that has expired, would fail.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web

from strongroom_core.storage import ports
from strongroom_sidecar import app as sidecar_app
from tests import canary
from tests.refresh import harness, scenario
from tests.support import browser, jwts
from tests.support.fixtures import ServerFactory
from tests.support.oauth_server import OAuthServer

pytestmark = browser.requires_chromium

SIDECARS = 5
CALLS = 200


class VerifyingApi:
    """Accepts a call only with a valid JWT access token of the authorization server."""

    def __init__(self, server: OAuthServer) -> None:
        with httpx.Client(verify=server.verify) as client:
            self._jwks: dict[str, Any] = client.get(server.jwks_url).json()
        self._issuer = server.issuer
        self._audience = server.audience
        self._verified: dict[str, float] = {}
        self.tokens: set[str] = set()
        self.port = 0
        self._runner: web.AppRunner | None = None

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/data"

    async def start(self) -> None:
        application = web.Application()
        application.router.add_get("/data", self._handle)
        self._runner = web.AppRunner(application, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        expires = self._verified.get(token)
        if expires is None:
            canary.register(token)
            try:
                claims = jwts.verify(
                    token, self._jwks, issuer=self._issuer, audience=self._audience
                )
            except (jwts.InvalidToken, ValueError, KeyError):
                return web.json_response({"error": "invalid_token"}, status=401)
            expires = self._verified[token] = float(claims["exp"])
            self.tokens.add(token)
        if time.time() >= expires:
            return web.json_response({"error": "invalid_token", "why": "expired"}, status=401)
        return web.json_response({"ok": True})


@pytest.fixture
def storage(race_storage: ports.Storage) -> ports.Storage:
    """The control plane and the world of every test here, once per storage (storages.py)."""
    return race_storage


@pytest.fixture
async def verifying_api_factory() -> AsyncIterator[list[VerifyingApi]]:
    started: list[VerifyingApi] = []
    yield started
    for api in started:
        await api.stop()


async def _setup(
    factory: ServerFactory,
    started: list[VerifyingApi],
    world: harness.RefreshWorld,
    make_sidecar: harness.SidecarFactory,
    *,
    access_token_ttl: int,
) -> tuple[OAuthServer, VerifyingApi, list[sidecar_app.Sidecar]]:
    server = factory(access_token_ttl=access_token_ttl)
    tokens = await browser.sign_in(server)
    api = VerifyingApi(server)
    await api.start()
    started.append(api)
    client = server.web_client
    await world.add_provider(
        harness.oauth2_provider(
            api.port,
            server.token_url,
            client_id=client.client_id,
            auth_method=client.auth_method,
            sealed_secret=await world.seal_secret(client.client_secret),
        )
    )
    await world.add_grant(
        {
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "token_type": tokens.get("token_type", "Bearer"),
            "expires_at": repr(time.time() + float(tokens["expires_in"])),
        }
    )
    cars = [
        await scenario.sidecar(make_sidecar, refresh_timeout=5.0, refresh_lease=15.0)
        for _ in range(SIDECARS)
    ]
    server.reset_counters()
    return server, api, cars


async def _burst(
    http: aiohttp.ClientSession, cars: list[sidecar_app.Sidecar], api: VerifyingApi
) -> list[int]:
    results = await asyncio.gather(
        *(harness.call(http, cars[i % len(cars)], api.url()) for i in range(CALLS))
    )
    return [status for status, _, _ in results]


def _all_at(cars: list[sidecar_app.Sidecar], generation: int) -> Callable[[], bool]:
    return lambda: all(car.state.grants[harness.GRANT].generation == generation for car in cars)


def _refreshes(server: OAuthServer) -> int:
    return server.counters()["token_requests"].get("refresh_token", 0)


async def test_twenty_expiries_with_200_calls_on_5_sidecars_refresh_exactly_once_each(
    oauth_server_factory: ServerFactory,
    verifying_api_factory: list[VerifyingApi],
    world: harness.RefreshWorld,
    make_sidecar: harness.SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    """Each expiry is made by moving the stored expiry into the past (the tokens themselves
    live 10 minutes, so no expiry happens by time meanwhile)."""
    server, api, cars = await _setup(
        oauth_server_factory, verifying_api_factory, world, make_sidecar, access_token_ttl=600
    )
    expiries = 20
    waited = 0
    for expiry in range(1, expiries + 1):
        generation = (await world.expire_now()).generation
        statuses = await _burst(http, cars, api)

        assert statuses == [200] * CALLS, f"expiry {expiry}"
        await harness.eventually(_all_at(cars, generation + 1))
        canary.register((await world.credential())["refresh_token"])
        assert _refreshes(server) == expiry, f"one token-endpoint call per expiry ({expiry})"
        waited += sum(
            1
            for car in cars
            for event in harness.audit_events(car)
            if event["kind"] == "use" and event["refreshed"]
        )

    counters = server.counters()
    assert counters["invalid_grant"] == 0
    assert counters["refresh_token_reuse"] == 0
    assert counters["grants_revoked"] == 0
    assert counters["token_requests"]["refresh_token"] == expiries
    assert sum(car.refresher.stats.refreshed for car in cars) == expiries
    assert waited > 0, "some calls waited for a refresh"
    record = await world.grant()
    assert (record.state, record.generation) == ("Ready", expiries + 1)
    distinct_tokens = len(api.tokens)
    assert expiries <= distinct_tokens <= expiries + 1, "the first token may never be needed"


async def test_tokens_expiring_by_time_under_steady_load_refresh_once_per_expiry(
    oauth_server_factory: ServerFactory,
    verifying_api_factory: list[VerifyingApi],
    world: harness.RefreshWorld,
    make_sidecar: harness.SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    """One-second access tokens, expiring on their own while bursts keep coming; proactive
    refresh, waiting calls and the 401 path all meet here."""
    server, api, cars = await _setup(
        oauth_server_factory, verifying_api_factory, world, make_sidecar, access_token_ttl=1
    )
    start_generation = (await world.grant()).generation
    deadline = time.monotonic() + 8.0
    while time.monotonic() < deadline:
        statuses = await _burst(http, cars, api)
        assert statuses == [200] * CALLS
        canary.register((await world.credential()).get("refresh_token", ""))

    generations = (await world.grant()).generation - start_generation
    counters = server.counters()
    assert generations >= 5, "several expiries happened"
    assert _refreshes(server) == generations, "exactly one token-endpoint call per expiry"
    assert counters["invalid_grant"] == 0
    assert counters["refresh_token_reuse"] == 0
    assert (await world.grant()).state == "Ready"
