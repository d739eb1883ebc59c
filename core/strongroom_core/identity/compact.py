"""Split and check a compact JWS (RFC 7515 §7.1) before any key is looked up.

Everything here is cheap and refuses early: size bounds, three segments, strict base64url and
JSON, and the header rules that keep the key choice ours:

- ``alg`` ``none`` and ``HS*`` are refused whatever the App allows, others must be allowed;
- ``jwk``, ``jku``, ``x5u``, ``x5c`` are refused: a token never supplies or points at its own
  key, the key comes from the App's JWKS only;
- ``crit`` is refused: this verifier understands no extension, and RFC 7515 §4.1.11 says a
  token with a critical extension the recipient does not understand is invalid (this covers
  ``b64: false``, which also requires ``crit``).

Details name headers, never values from the token.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from strongroom_core.identity import algorithms, encoding, errors

MAX_TOKEN_LENGTH = 16 * 1024
MAX_HEADER_LENGTH = 2 * 1024
"""Encoded lengths, in characters. Real ID and access tokens are a few KiB at most."""

EMBEDDED_KEY_HEADERS = ("jwk", "jku", "x5u", "x5c")
REFUSED_HEADERS = (*EMBEDDED_KEY_HEADERS, "crit", "b64", "zip", "enc")


@dataclass(frozen=True, slots=True)
class Parts:
    header: dict[str, Any]
    alg: str
    kid: str | None
    payload_segment: str
    signing_input: bytes
    signature: bytes


def split(token: object, allowed: frozenset[str]) -> Parts:
    """Parse ``token`` and check its header against ``allowed`` algorithms."""
    if not isinstance(token, str):
        raise errors.IdentityError("malformed_token", "the token must be a string")
    if len(token) > MAX_TOKEN_LENGTH:
        raise errors.IdentityError(
            "malformed_token", f"the token is longer than {MAX_TOKEN_LENGTH} characters"
        )
    if not token.isascii():
        raise errors.IdentityError(
            "malformed_token", "the token must be ASCII (base64url and dots)"
        )
    segments = token.split(".")
    if len(segments) != 3:
        hint = " (an encrypted JWE is not accepted)" if len(segments) == 5 else ""
        raise errors.IdentityError(
            "malformed_token",
            f"a JWT has 3 dot-separated segments, this one has {len(segments)}{hint}",
        )
    header_segment, payload_segment, signature_segment = segments
    if len(header_segment) > MAX_HEADER_LENGTH:
        raise errors.IdentityError(
            "malformed_token", f"the JOSE header is longer than {MAX_HEADER_LENGTH} characters"
        )
    header, alg, kid = _header(header_segment, allowed)
    try:
        signature = encoding.b64url_decode(signature_segment)
    except ValueError:
        raise errors.IdentityError(
            "malformed_token", "the signature segment is not base64url"
        ) from None
    signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
    return Parts(header, alg, kid, payload_segment, signing_input, signature)


@functools.lru_cache(maxsize=256)
def _header(segment: str, allowed: frozenset[str]) -> tuple[dict[str, Any], str, str | None]:
    """Decode and check a header segment. Cached: an identity provider's tokens share a few
    headers (one per signing key), so most calls skip this JSON parse. Refusals are exceptions,
    which ``lru_cache`` does not keep. Callers must not mutate the returned header."""
    header = _decode_json("header", segment)
    alg = _check_header(header, allowed)
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise errors.IdentityError("malformed_token", "header kid: must be a string")
    return header, alg, kid


def decode_payload(parts: Parts) -> dict[str, Any]:
    """The claims, decoded only once the signature verified."""
    return _decode_json("payload", parts.payload_segment)


def _decode_json(what: str, segment: str) -> dict[str, Any]:
    try:
        return encoding.json_object(encoding.b64url_decode(segment))
    except ValueError as e:
        raise errors.IdentityError("malformed_token", f"the {what}: {e}") from None


def _check_header(header: dict[str, Any], allowed: frozenset[str]) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise errors.IdentityError("malformed_token", "header alg: required, a string")
    if algorithms.is_refused_always(alg):
        raise errors.IdentityError(
            "algorithm_not_allowed",
            "header alg: 'none' and symmetric (HS*) algorithms are never accepted; the identity "
            "provider must sign with an asymmetric key",
        )
    if alg not in allowed:
        shown = alg if alg in algorithms.ALGORITHMS else "this algorithm"
        raise errors.IdentityError(
            "algorithm_not_allowed",
            f"header alg: {shown} is not in the App's identity.algorithms "
            f"({', '.join(sorted(allowed))})",
        )
    for name in REFUSED_HEADERS:
        if name in header:
            if name in EMBEDDED_KEY_HEADERS:
                reason = "a token never supplies its own key; keys come from the App's JWKS only"
            elif name == "crit":
                reason = "critical extensions are not understood, so the token is invalid"
            else:
                reason = "not supported for signed identity tokens"
            raise errors.IdentityError("malformed_token", f"header {name}: {reason}")
    return alg
