"""Verify an end user's JWT: compact JWS signature (RFC 7515) and the registered claims
(RFC 7519) against the App's identity provider.

Order: header checks (:mod:`.compact`) → key by ``kid`` → key type/curve/``alg`` must fit the
token's ``alg`` → signature → only then the claims (``iss``, ``aud``, ``exp``, ``nbf``, ``iat``).
Checking the signature first means a forged token is always ``bad_signature``, whatever it
claims. ``exp`` is required: a token without one would be valid forever.

Three entry points, one implementation:

- :func:`verify` with a :class:`jwks.KeySet` (sync, no I/O);
- :func:`verify_fetching` with a :class:`caching.JwksCache` and a fetch callback;
- :class:`Verifier`, what the sidecar keeps per App: expectations, JWKS cache, fetch callback
  and a cache of recently verified tokens.
"""

from __future__ import annotations

import math
import time
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from strongroom_core.identity import algorithms, caching, compact, errors, jwks, recent

Claims = Mapping[str, Any]
"""Verified claims, read-only."""

DEFAULT_LEEWAY = 30.0
MAX_LEEWAY = 300.0


@dataclass(frozen=True, slots=True)
class Expectations:
    """What a token must satisfy: the App's ``spec.identity`` plus the clock leeway."""

    issuer: str
    audiences: tuple[str, ...]
    algorithms: tuple[str, ...] = ("RS256",)
    leeway: float = DEFAULT_LEEWAY
    """Seconds of clock skew tolerated on ``exp``, ``nbf`` and ``iat``."""
    allowed: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "audiences", tuple(self.audiences))
        object.__setattr__(self, "algorithms", algorithms.check_allowlist(tuple(self.algorithms)))
        object.__setattr__(self, "allowed", frozenset(self.algorithms))
        if not self.issuer:
            raise ValueError("identity.issuer: required")
        if not self.audiences or not all(isinstance(a, str) and a for a in self.audiences):
            raise ValueError("identity.audiences: at least one non-empty audience")
        if not 0 <= self.leeway <= MAX_LEEWAY:
            raise ValueError(f"leeway: between 0 and {MAX_LEEWAY} seconds")


def verify(
    token: str,
    *,
    keys: jwks.KeySet,
    issuer: str,
    audiences: Sequence[str],
    algorithms: Sequence[str],
    leeway: float = DEFAULT_LEEWAY,
    now: float,
) -> Claims:
    """Verify ``token`` with a fixed key set; raise ``IdentityError`` with a stable code."""
    expected = Expectations(issuer, tuple(audiences), tuple(algorithms), leeway)
    parts = compact.split(token, expected.allowed)
    key = keys.key_for(parts.kid)
    if key is None:
        named = f"kid {parts.kid!r}" if parts.kid is not None else "no kid"
        raise errors.IdentityError("unknown_key", f"the token names {named}, not in the JWKS")
    claims, _ = verify_parts(parts, key, expected, now)
    return claims


async def verify_fetching(
    token: str,
    *,
    cache: caching.JwksCache,
    fetch: caching.Fetch,
    issuer: str,
    audiences: Sequence[str],
    algorithms: Sequence[str],
    leeway: float = DEFAULT_LEEWAY,
    now: float,
) -> Claims:
    """Like :func:`verify`, looking the key up in ``cache`` (refetching an unknown ``kid``)."""
    expected = Expectations(issuer, tuple(audiences), tuple(algorithms), leeway)
    parts = compact.split(token, expected.allowed)
    key = await cache.get_key(parts.kid, fetch, now)
    claims, _ = verify_parts(parts, key, expected, now)
    return claims


class Verifier:
    """One App's verifier, kept by the sidecar for as long as ``spec.identity`` is unchanged.

    ``verify`` answers a token seen recently from :class:`recent.RecentTokens` (expiry still
    checked on each use) and otherwise verifies it fully, fetching the JWKS when needed.
    """

    def __init__(
        self,
        expected: Expectations,
        cache: caching.JwksCache,
        fetch: caching.Fetch,
        *,
        recent_tokens: recent.RecentTokens | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.expected = expected
        self.cache = cache
        self.fetch = fetch
        self.recent = recent_tokens if recent_tokens is not None else recent.RecentTokens()
        self.clock = clock

    async def verify(self, token: str, now: float | None = None) -> Claims:
        now = self.clock() if now is None else now
        if not isinstance(token, str):
            raise errors.IdentityError("malformed_token", "the token must be a string")
        digest = self.recent.digest(token)
        entry = self.recent.get(digest, self.cache.keys)
        if entry is not None:
            if now >= entry.expires_at + self.expected.leeway:
                self.recent.forget(digest)
                raise _expired()
            return entry.claims
        parts = compact.split(token, self.expected.allowed)
        key = await self.cache.get_key(parts.kid, self.fetch, now)
        keys = self.cache.keys
        claims, expires_at = verify_parts(parts, key, self.expected, now)
        if keys is not None:
            self.recent.put(digest, recent.Entry(claims, expires_at, keys))
        return claims


def verify_parts(
    parts: compact.Parts, key: jwks.VerificationKey, expected: Expectations, now: float
) -> tuple[Claims, float]:
    """Signature, then claims. Returns the claims and their ``exp``."""
    if parts.alg not in key.algorithms:
        kind = f"{key.kty} {key.crv}" if key.crv else key.kty
        bound = f" bound to {key.alg}" if key.alg else ""
        raise errors.IdentityError(
            "algorithm_not_allowed",
            f"header alg: {parts.alg} cannot be verified with key {key.kid!r}, a {kind} key{bound}",
        )
    algorithm = algorithms.ALGORITHMS[parts.alg]
    if not algorithm.verify(key.public_key, parts.signature, parts.signing_input):
        raise errors.IdentityError(
            "bad_signature",
            f"the signature does not verify with key {key.kid!r} ({parts.alg}); the token was "
            "altered or not signed by the App's identity provider",
        )
    payload = compact.decode_payload(parts)
    expires_at = check_claims(payload, expected, now)
    return types.MappingProxyType(payload), expires_at


def check_claims(claims: Mapping[str, Any], expected: Expectations, now: float) -> float:
    """Check ``iss``, ``aud``, ``exp``, ``nbf``, ``iat``; return ``exp``."""
    issuer = claims.get("iss")
    if issuer is None:
        raise _missing("iss")
    if issuer != expected.issuer:
        raise errors.IdentityError(
            "wrong_issuer", f"claim iss: the token was not issued by {expected.issuer!r}"
        )
    audience = claims.get("aud")
    if audience is None:
        raise _missing("aud")
    named = [audience] if isinstance(audience, str) else audience
    if not isinstance(named, list) or not all(isinstance(a, str) for a in named):
        raise errors.IdentityError("malformed_token", "claim aud: a string or a list of strings")
    if not any(a in expected.audiences for a in named):
        raise errors.IdentityError(
            "wrong_audience",
            f"claim aud: the token is not meant for {', '.join(map(repr, expected.audiences))}",
        )
    expires_at = _numeric_date(claims, "exp")
    if expires_at is None:
        raise _missing("exp")
    if now >= expires_at + expected.leeway:
        raise _expired()
    not_before = _numeric_date(claims, "nbf")
    if not_before is not None and now + expected.leeway < not_before:
        raise errors.IdentityError(
            "token_not_yet_valid", "claim nbf: the token is not valid yet; check the clocks"
        )
    issued_at = _numeric_date(claims, "iat")
    if issued_at is not None and issued_at > now + expected.leeway:
        raise errors.IdentityError(
            "token_not_yet_valid", "claim iat: the token was issued in the future; check the clocks"
        )
    return float(expires_at)


def _numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.IdentityError("malformed_token", f"claim {name}: must be a number (seconds)")
    if isinstance(value, float) and not math.isfinite(value):
        raise errors.IdentityError("malformed_token", f"claim {name}: must be finite")
    return float(value) if isinstance(value, float) else _clamp(value)


def _clamp(value: int) -> float:
    # A signed 10**400 is "never"; float() of it would overflow.
    return float(max(min(value, 2**62), -(2**62)))


def _missing(name: str) -> errors.IdentityError:
    return errors.IdentityError("missing_claim", f"claim {name}: required")


def _expired() -> errors.IdentityError:
    return errors.IdentityError("token_expired", "claim exp: the token has expired; get a new one")
