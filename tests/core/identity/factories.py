"""Test identity providers: real keys made with cryptography, tokens signed here, and a JWKS
endpoint stand-in (the fetch callback) that counts its calls."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from tests import canary

ISSUER = "https://id.example.com/realms/shop"
AUDIENCE = "shop-api"
JWKS_URL = "https://id.example.com/realms/shop/certs"
NOW = 1_800_000_000.0

ALL_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "ES256", "ES384", "EdDSA")
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "256": hashes.SHA256(),
    "384": hashes.SHA384(),
    "512": hashes.SHA512(),
}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64json(value: object) -> str:
    return b64(json.dumps(value).encode())


def _int(value: int, size: int | None = None) -> str:
    return b64(value.to_bytes(size or (value.bit_length() + 7) // 8, "big"))


_RSA_CACHE: list[rsa.RSAPrivateKey] = []


def _rsa_key(index: int) -> rsa.RSAPrivateKey:
    # RSA generation is slow; a few keys shared by the whole run are enough.
    while len(_RSA_CACHE) <= index:
        _RSA_CACHE.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _RSA_CACHE[index]


@dataclass
class Signer:
    """One signing key of the identity provider."""

    alg: str
    kid: str
    private_key: Any = field(repr=False)

    @classmethod
    def new(cls, alg: str = "RS256", kid: str | None = None, rsa_index: int = 0) -> Signer:
        kid = kid or f"kid-{alg.lower()}-{secrets.token_hex(4)}"
        key: Any
        if alg.startswith(("RS", "PS")):
            key = _rsa_key(rsa_index)
        elif alg == "ES256":
            key = ec.generate_private_key(ec.SECP256R1())
        elif alg == "ES384":
            key = ec.generate_private_key(ec.SECP384R1())
        elif alg == "EdDSA":
            key = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(alg)
        signer = cls(alg, kid, key)
        canary.register(signer.private_pem().decode())
        return signer

    def private_pem(self) -> bytes:
        return bytes(
            self.private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def public_pem(self) -> bytes:
        return bytes(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def jwk(self, *, with_alg: bool = False, **extra: Any) -> dict[str, Any]:
        public = self.private_key.public_key()
        jwk: dict[str, Any]
        if isinstance(public, rsa.RSAPublicKey):
            rsa_numbers = public.public_numbers()
            jwk = {"kty": "RSA", "n": _int(rsa_numbers.n), "e": _int(rsa_numbers.e)}
        elif isinstance(public, ec.EllipticCurvePublicKey):
            size = 32 if public.curve.name == "secp256r1" else 48
            crv = "P-256" if size == 32 else "P-384"
            point = public.public_numbers()
            jwk = {"kty": "EC", "crv": crv, "x": _int(point.x, size), "y": _int(point.y, size)}
        else:
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
        jwk["kid"] = self.kid
        jwk["use"] = "sig"
        if with_alg:
            jwk["alg"] = self.alg
        jwk.update(extra)
        return jwk

    def sign_bytes(self, data: bytes, alg: str | None = None) -> bytes:
        alg = alg or self.alg
        key = self.private_key
        if alg.startswith("RS"):
            return bytes(key.sign(data, padding.PKCS1v15(), _HASHES[alg[2:]]))
        if alg.startswith("PS"):
            h = _HASHES[alg[2:]]
            return bytes(key.sign(data, padding.PSS(padding.MGF1(h), h.digest_size), h))
        if alg.startswith("ES"):
            size = 32 if alg == "ES256" else 48
            r, s = utils.decode_dss_signature(key.sign(data, ec.ECDSA(_HASHES[alg[2:]])))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        return bytes(key.sign(data))

    def token(
        self,
        claims: dict[str, Any] | None = None,
        *,
        header: dict[str, Any] | None = None,
        alg: str | None = None,
        **overrides: Any,
    ) -> str:
        """A signed token with valid claims, changed by ``overrides`` (``None`` removes one)."""
        body = valid_claims() if claims is None else dict(claims)
        for name, value in overrides.items():
            if value is None:
                body.pop(name, None)
            else:
                body[name] = value
        head = {"alg": alg or self.alg, "kid": self.kid, "typ": "JWT"}
        head.update(header or {})
        head = {k: v for k, v in head.items() if v is not None}
        signing_input = f"{b64json(head)}.{b64json(body)}"
        token = f"{signing_input}.{b64(self.sign_bytes(signing_input.encode(), alg))}"
        canary.register(token)
        return token


def valid_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "iat": NOW - 60,
        "nbf": NOW - 60,
        "exp": NOW + 600,
        "groups": ["staff"],
    }
    claims.update(overrides)
    return claims


def hs256_token(secret: bytes, claims: dict[str, Any], kid: str) -> str:
    head = {"alg": "HS256", "kid": kid, "typ": "JWT"}
    signing_input = f"{b64json(head)}.{b64json(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64(mac)}"
    canary.register(token)
    return token


def unsigned_token(claims: dict[str, Any], *, alg: str = "none", signature: str = "") -> str:
    token = f"{b64json({'alg': alg, 'typ': 'JWT'})}.{b64json(claims)}.{signature}"
    canary.register(token)
    return token


def jwks_document(*jwks: dict[str, Any]) -> bytes:
    return json.dumps({"keys": list(jwks)}).encode()


class IdentityProvider:
    """The JWKS endpoint: ``await provider(url)`` is the sidecar's fetch callback."""

    def __init__(self, *signers: Signer, delay: float = 0.0) -> None:
        self.signers = list(signers)
        self.delay = delay
        self.fetches: list[str] = []
        self.failing: Exception | None = None
        self.body: bytes | None = None
        """Served instead of the signers' JWKS when set."""

    def rotate(self, signer: Signer, *, keep_old: bool = True) -> None:
        self.signers = [*self.signers, signer] if keep_old else [signer]

    async def __call__(self, url: str) -> bytes:
        self.fetches.append(url)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failing is not None:
            raise self.failing
        if self.body is not None:
            return self.body
        return jwks_document(*(s.jwk() for s in self.signers))
