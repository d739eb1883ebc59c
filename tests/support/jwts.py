"""Just enough JWS verification (RS256, ES256) to check the authorization server's tokens
against its JWKS in the harness's own tests. The sidecar has its own verifier; this one only
proves the tokens are what a verifier will be handed."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils


class InvalidToken(ValueError):
    """The token does not verify; the message says which check failed (never the token)."""


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _int(segment: str) -> int:
    return int.from_bytes(_b64(segment), "big")


def header(token: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(_b64(token.split(".")[0]))
    return parsed


def claims(token: str) -> dict[str, Any]:
    """The payload, unverified."""
    parsed: dict[str, Any] = json.loads(_b64(token.split(".")[1]))
    return parsed


def verify(
    token: str,
    jwks: dict[str, Any],
    *,
    issuer: str,
    audience: str,
    now: float | None = None,
) -> dict[str, Any]:
    """The verified claims, or InvalidToken naming the failed check."""
    head, body, signature = token.split(".")
    alg, kid = header(token).get("alg"), header(token).get("kid")
    key = next((k for k in jwks.get("keys", []) if k.get("kid") == kid), None)
    if key is None:
        raise InvalidToken(f"unknown key id {kid!r}")
    signed, raw = f"{head}.{body}".encode(), _b64(signature)
    try:
        if alg == "RS256" and key["kty"] == "RSA":
            public = rsa.RSAPublicNumbers(_int(key["e"]), _int(key["n"])).public_key()
            public.verify(raw, signed, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "ES256" and key["kty"] == "EC":
            point = ec.EllipticCurvePublicNumbers(_int(key["x"]), _int(key["y"]), ec.SECP256R1())
            half = len(raw) // 2
            der = utils.encode_dss_signature(
                int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
            )
            point.public_key().verify(der, signed, ec.ECDSA(hashes.SHA256()))
        else:
            raise InvalidToken(f"algorithm {alg!r} does not fit key {kid!r}")
    except InvalidSignature:
        raise InvalidToken("bad signature") from None
    payload = claims(token)
    if payload.get("iss") != issuer:
        raise InvalidToken(f"issuer {payload.get('iss')!r} is not {issuer!r}")
    audiences = payload.get("aud")
    if audience not in (audiences if isinstance(audiences, list) else [audiences]):
        raise InvalidToken(f"audience {audiences!r} does not include {audience!r}")
    if (now if now is not None else time.time()) >= payload["exp"]:
        raise InvalidToken("expired")
    return payload
