"""JWT identity in the sidecar: the App's verifier, kept in step with the compiled policy, and
the JWKS fetch it uses.

One :class:`verification.Verifier` for the App this sidecar serves, rebuilt when
``policy["identity"]`` changes; its JWKS cache survives the rebuild while the JWKS URL stays
the same (a changed audience must not cost a refetch, nor forget keys). The fetch is a plain
GET over the sidecar's own client session: a timeout, at most ``jwks.MAX_DOCUMENT_BYTES``, no
redirects, https only (plain http to loopback only where loopback targets are allowed: dev mode
and tests), no credentials sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import aiohttp
import yarl

from strongroom_core import policy
from strongroom_core.identity import config, errors, jwks, principals, verification
from strongroom_sidecar import headers, logs, problems
from strongroom_sidecar import settings as settings_module

log = logs.get("identity")


class FetchError(Exception):
    """The JWKS could not be fetched; the message names the URL and why (no secrets)."""


class JwksFetcher:
    """``async (url) -> bytes`` for :class:`caching.JwksCache`."""

    def __init__(self, settings: settings_module.SidecarSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._settings.jwks_timeout),
                headers={"Accept": "application/json"},
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def check_url(self, url: str) -> None:
        parsed = yarl.URL(url)
        if parsed.scheme == "https" and parsed.host:
            return
        if (
            parsed.scheme == "http"
            and self._settings.allow_loopback_targets
            and settings_module.is_loopback_host(parsed.host or "")
        ):
            return
        raise FetchError(
            f"identity.jwksURL {url!r}: must be an https:// URL (plain http only to loopback in "
            "dev mode and tests)"
        )

    async def __call__(self, url: str) -> bytes:
        self.check_url(url)
        if self._session is None:
            raise FetchError("the sidecar is not started")
        async with self._session.get(url, allow_redirects=False) as response:
            if response.status != 200:
                raise FetchError(f"{url} answered HTTP {response.status} (redirects not followed)")
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > jwks.MAX_DOCUMENT_BYTES:
                    raise FetchError(f"{url} served more than {jwks.MAX_DOCUMENT_BYTES} bytes")
        return bytes(body)


@dataclass(frozen=True, slots=True)
class _Current:
    wire: policy.IdentityWire
    config: config.IdentityConfig
    verifier: verification.Verifier


class Identity:
    """The App's end-user identity as of the last policy; :meth:`principal` per call."""

    def __init__(self, settings: settings_module.SidecarSettings) -> None:
        self._settings = settings
        self.fetcher = JwksFetcher(settings)
        self._current: _Current | None = None
        self._invalid: str | None = None
        self._seen: policy.IdentityWire | None = None

    @property
    def configured(self) -> bool:
        return self._current is not None

    def update(self, wire: policy.IdentityWire | None) -> None:
        """Apply ``policy["identity"]`` (``None``: the App has none)."""
        if wire is None:
            self._current, self._invalid = None, None
            return
        if self._current is not None and self._current.wire == wire:
            return
        try:
            cfg = config.from_spec(wire)
            self.fetcher.check_url(cfg.jwks_url)
        except (ValueError, FetchError) as e:
            log.error("identity settings refused", extra={"fields": {"error": str(e)[:300]}})
            self._current, self._invalid = None, str(e)[:300]
            return
        previous = self._current
        if previous is not None and cfg.same_keys_as(previous.config):
            cache = previous.verifier.cache
        else:
            cache = cfg.new_cache(
                min_refetch_interval=self._settings.jwks_min_refetch_seconds,
                max_age=self._settings.jwks_max_age_seconds,
            )
        verifier = verification.Verifier(cfg.expected, cache, self.fetcher)
        self._current, self._invalid = _Current(wire, cfg, verifier), None

    async def principal(self, token: str, wire: policy.IdentityWire | None) -> principals.Principal:
        """The verified end user, or a :class:`problems.Refusal` with the identity code.
        ``wire`` is the current ``policy["identity"]``; a new one rebuilds the verifier."""
        if wire is not self._seen:
            self.update(wire)
            self._seen = wire
        current = self._current
        if current is None:
            why = (
                f"its spec.identity is unusable ({self._invalid})"
                if self._invalid
                else "it has no spec.identity"
            )
            raise problems.Refusal(
                "identity_not_configured",
                f"{headers.USER_TOKEN}: App {self._settings.app!r} cannot verify end users' "
                f"tokens: {why}; configure the App's identity provider or leave the header out",
            )
        try:
            claims = await current.verifier.verify(token, time.time())
            return principals.principal_from_claims(claims, current.config.claims)
        except errors.IdentityError as e:
            raise refusal(e) from None


def refusal(error: errors.IdentityError) -> problems.Refusal:
    """The sidecar's answer to an identity error: the same stable code and status."""
    detail = str(error)
    if error.code in errors.TOKEN_CODES:
        detail = f"{headers.USER_TOKEN}: {detail}"
    retry = 5 if error.code == "jwks_unavailable" else None
    return problems.Refusal(error.code, detail, retry_after=retry, reason=str(error))
