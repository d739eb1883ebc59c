"""The App's JWKS, cached: refetched on an unknown ``kid`` (rotation) and when old, never more
often than a floor allows, one fetch at a time.

Transport-free: the sidecar passes a :class:`Fetch` (an aiohttp GET in production, a function
in tests). Core does not import aiohttp.

Why a floor: a ``kid`` is chosen by whoever sends the token, so without one a flood of tokens
with random ``kid`` values would turn into a flood of requests to the identity provider. Failed
fetches count too: a provider that is down is not asked again before the floor has passed.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from strongroom_core.identity import errors, jwks

DEFAULT_MIN_REFETCH_INTERVAL = 30.0
DEFAULT_MAX_AGE = 3600.0


class Fetch(Protocol):
    """GET ``url`` and return the body; raise anything on failure (non-2xx, timeout, size).

    The sidecar's implementation should use a timeout (a few seconds), refuse redirects to
    another host, and stop reading after :data:`jwks.MAX_DOCUMENT_BYTES`.
    """

    async def __call__(self, url: str) -> bytes: ...


class JwksCache:
    """The current key set of one JWKS URL and when it was fetched.

    ``min_refetch_interval``: seconds between two fetch attempts, whatever triggers them.
    ``max_age``: a key set older than this is refreshed on the next lookup (if the floor
    allows); until the refresh succeeds the old keys keep serving, so an identity provider
    outage does not lock users out while their keys are unchanged.
    """

    def __init__(
        self,
        url: str,
        *,
        min_refetch_interval: float = DEFAULT_MIN_REFETCH_INTERVAL,
        max_age: float = DEFAULT_MAX_AGE,
    ) -> None:
        if min_refetch_interval < 0 or max_age <= 0:
            raise ValueError("min_refetch_interval must be >= 0 and max_age > 0")
        self.url = url
        self.min_refetch_interval = min_refetch_interval
        self.max_age = max_age
        self.keys: jwks.KeySet | None = None
        self.fetched_at: float | None = None
        """When :attr:`keys` were fetched (the caller's clock)."""
        self.last_attempt: float | None = None
        """When a fetch last started, successful or not; the floor counts from here."""
        self.last_error: str | None = None
        """Why the last fetch failed (no secrets: a URL and an error type), or ``None``."""
        self.fetch_count = 0
        self._pending: asyncio.Future[jwks.KeySet] | None = None

    # --- decisions, no I/O -------------------------------------------------------------------

    def floor_passed(self, now: float) -> bool:
        return self.last_attempt is None or now - self.last_attempt >= self.min_refetch_interval

    def needs_refetch(self, kid: str | None, now: float) -> bool:
        """The key set lacks ``kid`` and the floor allows asking the provider again."""
        known = self.keys is not None and self.keys.key_for(kid) is not None
        return not known and self.floor_passed(now)

    def needs_refresh(self, now: float) -> bool:
        """No keys yet, or older than ``max_age`` — and the floor allows a fetch."""
        stale = self.fetched_at is None or now - self.fetched_at >= self.max_age
        return stale and self.floor_passed(now)

    def replace(self, keys: jwks.KeySet, now: float) -> None:
        self.keys = keys
        self.fetched_at = now
        self.last_error = None

    # --- with a fetch ------------------------------------------------------------------------

    async def get_key(self, kid: str | None, fetch: Fetch, now: float) -> jwks.VerificationKey:
        """The key for ``kid``, fetching the JWKS again if it is unknown (or the set is old).

        Raises ``IdentityError``: ``unknown_key`` when the key is not there even after a
        refetch (or the floor forbids one), ``jwks_unavailable`` when no key set could be
        fetched at all.
        """
        keys = self.keys
        key = keys.key_for(kid) if keys is not None else None
        if key is not None:
            if self.needs_refresh(now):
                try:
                    keys = await self.refresh(fetch, now)
                except errors.IdentityError:
                    return key  # the cached key keeps serving; last_error says why
                return keys.key_for(kid) or self._unknown(kid, refetched=True)
            return key
        if self._pending is not None or self.needs_refetch(kid, now):
            try:
                keys = await self.refresh(fetch, now)
            except errors.IdentityError:
                if self.keys is None:
                    raise
                raise errors.IdentityError(
                    "jwks_unavailable",
                    f"the token's key is not in the cached JWKS and fetching {self.url} "
                    f"failed ({self.last_error}); try again later",
                ) from None
            return keys.key_for(kid) or self._unknown(kid, refetched=True)
        return self._unknown(kid, refetched=False)

    async def refresh(self, fetch: Fetch, now: float) -> jwks.KeySet:
        """Fetch and parse the JWKS now; callers arriving meanwhile share this one fetch."""
        pending = self._pending
        if pending is not None:
            # shield: a cancelled waiter must not cancel the fetch the others wait for.
            return await asyncio.shield(pending)
        pending = asyncio.get_running_loop().create_future()
        self._pending = pending
        self.last_attempt = now
        self.fetch_count += 1
        try:
            keys = await self._fetch(fetch, now)
        except BaseException as e:
            failure = (
                e
                if isinstance(e, errors.IdentityError)
                else errors.IdentityError("jwks_unavailable", f"fetching {self.url} was cancelled")
            )
            pending.set_exception(failure)
            pending.exception()  # retrieved: nobody waiting is not an error to report
            raise
        else:
            pending.set_result(keys)
            return keys
        finally:
            self._pending = None

    async def _fetch(self, fetch: Fetch, now: float) -> jwks.KeySet:
        try:
            body = await fetch(self.url)
        except Exception as e:
            self.last_error = f"{type(e).__name__} fetching the JWKS"
            raise errors.IdentityError(
                "jwks_unavailable", f"fetching {self.url} failed: {self.last_error}"
            ) from e
        try:
            keys = jwks.parse_jwks(body)
        except errors.JwksError as e:
            self.last_error = f"invalid JWKS: {e}"
            raise errors.IdentityError(
                "jwks_unavailable", f"{self.url} did not serve a usable JWKS: {e}"
            ) from None
        self.replace(keys, now)
        return keys

    def _unknown(self, kid: str | None, *, refetched: bool) -> jwks.VerificationKey:
        named = f"kid {kid!r}" if kid is not None else "no kid"
        if kid is not None and len(kid) > 100:
            named = "a kid longer than 100 characters"
        when = "even after fetching it again" if refetched else "(fetched again recently)"
        raise errors.IdentityError(
            "unknown_key", f"the token names {named}, which the App's JWKS does not hold {when}"
        )
