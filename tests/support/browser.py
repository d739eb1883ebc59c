"""Drive the authorization-code flow like a person would: Debian's chromium, headless, through
Playwright, filling oidc-provider's devInteractions login and consent forms.

Never `playwright install`: no browser download works on these machines, and the suite must
use the chromium that scripts/setup installs from Debian (/usr/bin/chromium).

    verifier, challenge = browser.new_pkce()
    code, redirect_uri = await browser.authorize_with_browser(server, code_verifier=verifier)
    tokens = server.exchange_code(code, redirect_uri=redirect_uri, code_verifier=verifier)
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import hashlib
import os
import re
import secrets
import threading
import urllib.parse
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright import async_api

from tests import canary
from tests.support import oauth_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_SCOPES = ("openid", "offline_access", "profile", "email", "groups", "api:read")
FLOW_TIMEOUT_MS = 15_000
T = TypeVar("T")
DEFAULT_REDIRECT_URI = "http://127.0.0.1/callback"

# Browser tests run wherever chromium is, and must run in CI (scripts/setup installs it there):
# only a developer machine without it may skip them.
requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason=f"{CHROMIUM} is absent: run scripts/setup as root (apt-get install chromium)",
)


class BrowserFlowError(RuntimeError):
    """The browser did not get from the authorize URL to the redirect with a code."""


def new_pkce() -> tuple[str, str]:
    """A PKCE (verifier, S256 challenge) pair; the verifier is registered as a canary."""
    verifier = secrets.token_urlsafe(48)  # 64 characters; RFC 7636 asks for 43 to 128
    canary.register(verifier)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(
    server: oauth_server.OAuthServer,
    client: oauth_server.Client,
    *,
    redirect_uri: str,
    scopes: Sequence[str],
    code_verifier: str,
    state: str,
) -> str:
    """The authorization request. prompt=consent: oidc-provider drops offline_access (and so
    issues no refresh token) unless consent is prompted."""
    digest = hashlib.sha256(code_verifier.encode()).digest()
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "nonce": secrets.token_urlsafe(12),
        "prompt": "consent",
        "code_challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    return f"{server.authorization_url}?{urllib.parse.urlencode(query)}"


async def authorize_with_browser(
    server: oauth_server.OAuthServer,
    client: oauth_server.Client | None = None,
    *,
    code_verifier: str,
    redirect_uri: str | None = None,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    login: str = "alice",
    password: str = "any-password",
) -> tuple[str, str]:
    """Log in and consent in a real browser; return (code, redirect_uri used).

    The browser's request for redirect_uri is caught as it leaves, so nothing needs to listen
    there (the default http://127.0.0.1/callback is registered for the web client, which also
    accepts that URI on any port).
    """
    client = client or server.web_client
    target = redirect_uri or DEFAULT_REDIRECT_URI
    state = secrets.token_urlsafe(12)
    url = authorize_url(
        server, client, redirect_uri=target, scopes=scopes, code_verifier=code_verifier, state=state
    )
    callback_url = await _drive(url, target, login=login, password=password)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(callback_url).query)
    if "error" in query:
        raise BrowserFlowError(
            f"the authorization server redirected with error={query['error'][0]}: "
            f"{query.get('error_description', [''])[0]}"
        )
    if query.get("state") != [state]:
        raise BrowserFlowError("the redirect's state does not match the request's")
    if "code" not in query:
        raise BrowserFlowError("the redirect carries no code")
    code = query["code"][0]
    canary.register(code)
    return code, target


async def _drive(url: str, redirect_uri: str, *, login: str, password: str) -> str:
    """Open url in a fresh browser context (no cookies, no session), get through the login and
    consent pages, return the redirect URL. Runs on the shared browser's own thread."""
    if not CHROMIUM.exists():
        raise BrowserFlowError(f"{CHROMIUM} is absent: scripts/setup installs it (as root)")
    return await _shared.run(_drive_in_browser_loop(url, redirect_uri, login, password))


async def _drive_in_browser_loop(url: str, redirect_uri: str, login: str, password: str) -> str:
    seen: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    pattern = _redirect_pattern(redirect_uri)

    def catch_redirect(request: async_api.Request) -> None:
        # Seen as the browser asks for it (route handlers do not see redirected requests);
        # whether anything listens there does not matter.
        if request.is_navigation_request() and pattern.match(request.url) and not seen.done():
            seen.set_result(request.url)

    context = await (await _shared.browser()).new_context()
    page = await context.new_page()
    try:
        page.set_default_timeout(FLOW_TIMEOUT_MS)
        page.on("request", catch_redirect)
        await page.goto(url)
        for _step in range(4):  # login, consent, and slack for a repeated prompt
            if seen.done():
                break
            try:
                await _answer_prompt(page, login=login, password=password)
            except async_api.Error:
                if not seen.done():  # else: nothing listens at the redirect URI
                    raise
        return await asyncio.wait_for(seen, FLOW_TIMEOUT_MS / 1000)
    except async_api.Error as error:
        raise BrowserFlowError(
            f"the browser flow failed at {page.url.split('?')[0]}: {error.message}"
        ) from None
    finally:
        await context.close()


class _SharedBrowser:
    """One headless chromium for the whole test session, driven from its own thread and event
    loop, so any test's loop can use it and starting it (about 1.5 s) is paid once. Each flow
    gets a new browser context: flows never share cookies. close() ends it; the Playwright
    driver also takes chromium down with it if this process dies."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright: async_api.Playwright | None = None
        self._browser: async_api.Browser | None = None
        self._starting: asyncio.Lock | None = None
        self._guard = threading.Lock()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run coroutine on the browser's loop and await it from the caller's loop."""
        with self._guard:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="strongroom-test-browser", daemon=True
                )
                self._thread.start()
            loop = self._loop
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))

    async def browser(self) -> async_api.Browser:
        """The running browser, started on first use (call on the browser's loop only)."""
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._browser is None or not self._browser.is_connected():
                if self._playwright is None:
                    self._playwright = await async_api.async_playwright().start()
                self._browser = await self._playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
            return self._browser

    def close(self) -> None:
        with self._guard:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()

    async def _stop(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()
        self._browser, self._playwright, self._starting = None, None, None


_shared = _SharedBrowser()
atexit.register(_shared.close)


def close_shared_browser() -> None:
    """End the session's browser (the fixtures do it at session end; atexit is the backstop)."""
    _shared.close()


async def _answer_prompt(page: async_api.Page, *, login: str, password: str) -> None:
    """Fill the devInteractions page on screen (login or consent) and submit it."""
    if await page.locator("input[name=prompt][value=login]").count():
        await page.fill("input[name=login]", login)
        await page.fill("input[name=password]", password)
    elif not await page.locator("input[name=prompt][value=consent]").count():
        text = (await page.inner_text("body"))[:300]
        raise BrowserFlowError(f"unexpected page at {page.url.split('?')[0]}: {text!r}")
    async with page.expect_navigation():
        await page.click("button[type=submit]")


def _redirect_pattern(redirect_uri: str) -> re.Pattern[str]:
    """The redirect URI with its query; on loopback without a port, with any port (RFC 8252)."""
    parts = urllib.parse.urlsplit(redirect_uri)
    if parts.hostname in ("127.0.0.1", "localhost") and parts.port is None:
        host = re.escape(f"{parts.scheme}://{parts.hostname}")
        return re.compile(f"{host}(:[0-9]+)?{re.escape(parts.path)}[?#]")
    return re.compile(f"{re.escape(redirect_uri)}[?#]")


async def sign_in(
    server: oauth_server.OAuthServer,
    *,
    login: str = "alice",
    scopes: Sequence[str] = DEFAULT_SCOPES,
    client: oauth_server.Client | None = None,
) -> dict[str, Any]:
    """The whole user flow: PKCE, browser login and consent, code exchange. Returns the token
    response (access_token, refresh_token, id_token, expires_in, scope, token_type)."""
    verifier, _challenge = new_pkce()
    code, redirect_uri = await authorize_with_browser(
        server, client, code_verifier=verifier, scopes=scopes, login=login
    )
    return await asyncio.to_thread(
        server.exchange_code,
        code,
        redirect_uri=redirect_uri,
        code_verifier=verifier,
        client=client,
    )
