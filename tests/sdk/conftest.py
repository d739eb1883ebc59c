"""A stand-in for the sidecar: an httpx.MockTransport that records what the SDK sent.

The sidecar is not the thing under test here (its end-to-end tests live elsewhere); these tests
check what the SDK puts on the wire and how it reads the answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

import strongroom

USER_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLWFsaWNl"
AGENT_KEY = "sr_agent_7f3c9a1b2d4e5f60718293a4b5c6d7e8"


@dataclasses.dataclass
class Sent:
    """One request as the sidecar received it, body fully read."""

    method: str
    url: httpx.URL
    headers: httpx.Headers
    body: bytes
    timeout: dict[str, float | None]


@dataclasses.dataclass
class FakeSidecar:
    """Answers every request with `respond(request)`, by default a 200 from "upstream"."""

    sent: list[Sent] = dataclasses.field(default_factory=list)
    respond: Callable[[httpx.Request], httpx.Response] = dataclasses.field(
        default=lambda request: httpx.Response(
            200, headers={"Strongroom-Audit-Id": "audit-1"}, json={"ok": True}
        )
    )

    @property
    def last(self) -> Sent:
        assert self.sent, "the SDK sent nothing"
        return self.sent[-1]

    def _record(self, request: httpx.Request, body: bytes) -> httpx.Response:
        self.sent.append(
            Sent(
                method=request.method,
                url=request.url,
                headers=request.headers,
                body=body,
                timeout=request.extensions.get("timeout", {}),
            )
        )
        return self.respond(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(lambda request: self._record(request, request.read()))

    def async_transport(self) -> httpx.MockTransport:
        async def handle(request: httpx.Request) -> httpx.Response:
            return self._record(request, await request.aread())

        return httpx.MockTransport(handle)


def sidecar_error(status: int, code: str, detail: str = "it went wrong") -> httpx.Response:
    """A response shaped like the sidecar's own errors."""
    return httpx.Response(
        status,
        headers={"Strongroom-Error": code, "Strongroom-Audit-Id": "audit-err"},
        json={
            "type": f"https://strongroom.dev/problems/{code}",
            "title": code.replace("_", " "),
            "status": status,
            "detail": detail,
            "code": code,
        },
    )


@pytest.fixture(autouse=True)
def _no_sidecar_address_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRONGROOM_URL", raising=False)


@pytest.fixture
def sidecar() -> FakeSidecar:
    return FakeSidecar()


@pytest.fixture
def app(sidecar: FakeSidecar) -> Iterator[strongroom.App]:
    with strongroom.App(transport=sidecar.transport()) as app:
        yield app


@pytest.fixture
async def async_app(sidecar: FakeSidecar) -> AsyncIterator[strongroom.AsyncApp]:
    async with strongroom.AsyncApp(transport=sidecar.async_transport()) as app:
        yield app


@dataclasses.dataclass
class Caller:
    """Either client behind one awaitable interface, so each behaviour is tested on both."""

    sync_app: strongroom.App | None = None
    async_app: strongroom.AsyncApp | None = None

    async def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        if self.sync_app is not None:
            return self.sync_app.request(method, url, **options)
        assert self.async_app is not None
        return await self.async_app.request(method, url, **options)

    async def stream(self, method: str, url: str, **options: Any) -> tuple[httpx.Response, bytes]:
        """Open a stream, read the body chunk by chunk, and return the response and the body."""
        if self.sync_app is not None:
            with self.sync_app.stream(method, url, **options) as response:
                return response, b"".join(response.iter_bytes())
        assert self.async_app is not None
        async with self.async_app.stream(method, url, **options) as response:
            return response, b"".join([chunk async for chunk in response.aiter_bytes()])

    async def close(self) -> None:
        if self.sync_app is not None:
            self.sync_app.close()
        if self.async_app is not None:
            await self.async_app.aclose()


MakeCaller = Callable[..., Caller]


@pytest.fixture(params=["sync", "async"])
async def make_caller(
    request: pytest.FixtureRequest, sidecar: FakeSidecar
) -> AsyncIterator[MakeCaller]:
    """Builds an App or AsyncApp (per parameter) with the given defaults on the fake sidecar."""
    made: list[Caller] = []

    def make(**defaults: Any) -> Caller:
        if request.param == "sync":
            caller = Caller(sync_app=strongroom.App(transport=sidecar.transport(), **defaults))
        else:
            caller = Caller(
                async_app=strongroom.AsyncApp(transport=sidecar.async_transport(), **defaults)
            )
        made.append(caller)
        return caller

    yield make
    for caller in made:
        await caller.close()


@pytest.fixture
def caller(make_caller: MakeCaller) -> Caller:
    return make_caller()
