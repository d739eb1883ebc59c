"""A test-owned OAuth2 token endpoint and an API that checks the tokens it issued.

The provider is not the thing under test here (tests/oauth covers the real authorization
server); this one lets a test script every answer a provider gives in the wild: form-encoded,
nested, without ``expires_in``, with an absolute ``expires_at``, without a new refresh token,
``invalid_grant`` with 401, 5xx, hanging. By default it behaves like a strict provider: it
rotates refresh tokens and revokes the grant when a consumed one comes back.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from aiohttp import web

from tests import canary

CLIENT_ID = "strongroom-test-client"
Answer = Callable[["TokenEndpoint", dict[str, str]], Awaitable[web.Response]]


@dataclass
class Issued:
    access_token: str
    refresh_token: str
    expires_at: float


@dataclass
class TokenEndpoint:
    client_secret: str = field(default_factory=lambda: canary.new("client-secret"))
    ttl: float = 3600.0
    calls: list[dict[str, Any]] = field(default_factory=list)
    """Every token request: ``form`` and ``authorization`` (decoded client id only)."""
    invalid_grants: int = 0
    reuse_detected: int = 0
    answers: list[Answer] = field(default_factory=list)
    """Scripted answers, used first, one per call; then the default (rotating) behaviour."""
    live_refresh: str | None = None
    consumed: set[str] = field(default_factory=set)
    valid_access: dict[str, float] = field(default_factory=dict)
    """Access token → expiry: what the API accepts."""
    revoked: bool = False
    last_access: str | None = None
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def issue(self, *, ttl: float | None = None) -> Issued:
        """A new access/refresh pair; the refresh token becomes the live one."""
        access = canary.new("access")
        refresh = canary.new("refresh")
        expires_at = time.time() + (self.ttl if ttl is None else ttl)
        self.valid_access[access] = expires_at
        self.live_refresh = refresh
        self.last_access = access
        return Issued(access, refresh, expires_at)

    def live_access(self) -> str | None:
        """The access token issued last."""
        return self.last_access

    def credential(self, issued: Issued) -> dict[str, str]:
        return {
            "access_token": issued.access_token,
            "refresh_token": issued.refresh_token,
            "token_type": "Bearer",
            "expires_at": repr(issued.expires_at),
        }

    async def start(self) -> None:
        application = web.Application()
        application.router.add_post("/token", self._handle)
        self._runner = web.AppRunner(application, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.calls.append(
            {
                "at": time.time(),
                "form": form,
                "client": _basic_client(request.headers.get("Authorization", "")),
                "basic_secret_ok": _basic_secret(request.headers.get("Authorization", ""))
                == self.client_secret,
            }
        )
        if self.answers:
            return await self.answers.pop(0)(self, form)
        return self.rotate(form)

    def rotate(self, form: dict[str, str], **extra: Any) -> web.Response:
        """The strict provider: rotate, and revoke the grant on reuse."""
        presented = form.get("refresh_token", "")
        if self.revoked or presented != self.live_refresh:
            self.invalid_grants += 1
            if presented in self.consumed:
                self.reuse_detected += 1
                self.revoked = True
            return web.json_response({"error": "invalid_grant"}, status=400)
        self.consumed.add(presented)
        issued = self.issue()
        body = {
            "access_token": issued.access_token,
            "refresh_token": issued.refresh_token,
            "token_type": "bearer",
            "expires_in": int(self.ttl),
            **extra,
        }
        return web.json_response(body)


def _basic_client(header: str) -> str | None:
    if not header.startswith("Basic "):
        return None
    decoded = base64.b64decode(header[6:]).decode()
    return unquote(decoded.split(":", 1)[0])


def _basic_secret(header: str) -> str | None:
    if not header.startswith("Basic "):
        return None
    return unquote(base64.b64decode(header[6:]).decode().split(":", 1)[1])


# --- scripted answers ----------------------------------------------------------------------


def status(code: int, body: dict[str, Any] | None = None) -> Answer:
    async def answer(endpoint: TokenEndpoint, form: dict[str, str]) -> web.Response:
        return web.json_response(body or {"error": "server_error"}, status=code)

    return answer


def hang(seconds: float) -> Answer:
    async def answer(endpoint: TokenEndpoint, form: dict[str, str]) -> web.Response:
        await asyncio.sleep(seconds)
        return web.json_response({"error": "too_late"}, status=504)

    return answer


def slow(seconds: float) -> Answer:
    """The strict provider, after a pause (so calls arrive while a refresh is in flight)."""

    async def answer(endpoint: TokenEndpoint, form: dict[str, str]) -> web.Response:
        await asyncio.sleep(seconds)
        return endpoint.rotate(form)

    return answer


def invalid_grant(code: int = 400) -> Answer:
    async def answer(endpoint: TokenEndpoint, form: dict[str, str]) -> web.Response:
        endpoint.invalid_grants += 1
        return web.json_response({"error": "invalid_grant"}, status=code)

    return answer


def shaped(build: Callable[[Issued], dict[str, Any]], *, form_encoded: bool = False) -> Answer:
    """A successful refresh whose body ``build`` shapes from a freshly issued pair."""

    async def answer(endpoint: TokenEndpoint, form: dict[str, str]) -> web.Response:
        endpoint.consumed.add(form.get("refresh_token", ""))
        issued = endpoint.issue()
        body = build(issued)
        if form_encoded:
            return web.Response(
                text=urlencode({k: str(v) for k, v in body.items()}),
                content_type="application/x-www-form-urlencoded",
            )
        return web.Response(text=json.dumps(body), content_type="application/json")

    return answer


@dataclass
class Api:
    """The third-party API: 200 for a live access token of the endpoint, else 401."""

    endpoint: TokenEndpoint
    port: int = 0
    seen: list[str] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    """Tokens answered 401 even though they are valid (revoked at the API)."""
    always_refuse: bool = False
    bodies: list[str] = field(default_factory=list)
    """SHA-256 of each request body, in order."""
    before: Callable[[str], Awaitable[None]] | None = None
    """Awaited with the presented token before the API decides (tests change the world here)."""
    _runner: web.AppRunner | None = None

    def url(self, path: str = "/data") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> None:
        application = web.Application(client_max_size=0)
        application.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(application, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.seen.append(token)
        self.bodies.append(hashlib.sha256(body).hexdigest())
        if self.before is not None:
            await self.before(token)
        expires = self.endpoint.valid_access.get(token)
        if self.always_refuse or token in self.refuse or expires is None or expires <= time.time():
            return web.json_response({"message": "Bad credentials"}, status=401)
        return web.json_response({"ok": True, "body_bytes": len(body)})
