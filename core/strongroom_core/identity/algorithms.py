"""The JWS algorithms Strongroom accepts (RFC 7518, RFC 8037) and how each one verifies.

Only asymmetric algorithms: an ``HS*`` token is verified with a shared secret, and the only
"secret" a relying party could have is the provider's *public* key, which is exactly the
classic key-confusion attack. ``none`` is not an algorithm. Both are refused before any key is
looked up.

Padding and hash objects are built once here, so the hot path does the public-key operation and
nothing avoidable around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

KeyType = Literal["RSA", "EC", "OKP"]

RSA_MIN_BITS = 2048


@dataclass(frozen=True, slots=True)
class Algorithm:
    name: str
    kty: KeyType
    crv: str | None
    """The curve an EC/OKP key must be on; ``None`` for RSA."""
    verify: Callable[[object, bytes, bytes], bool]
    """``verify(public_key, signature, signing_input) -> bool``; never raises on a bad signature."""


def _rsa_pkcs1(hash_: hashes.HashAlgorithm) -> Callable[[object, bytes, bytes], bool]:
    return _rsa(padding.PKCS1v15(), hash_)


def _rsa_pss(hash_: hashes.HashAlgorithm) -> Callable[[object, bytes, bytes], bool]:
    # RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash output.
    return _rsa(padding.PSS(mgf=padding.MGF1(hash_), salt_length=hash_.digest_size), hash_)


def _rsa(
    pad: padding.AsymmetricPadding, hash_: hashes.HashAlgorithm
) -> Callable[[object, bytes, bytes], bool]:
    def verify(key: object, signature: bytes, data: bytes) -> bool:
        assert isinstance(key, rsa.RSAPublicKey)
        try:
            key.verify(signature, data, pad, hash_)
        except InvalidSignature:
            return False
        return True

    return verify


def _ecdsa(
    hash_: hashes.HashAlgorithm, coordinate_bytes: int
) -> Callable[[object, bytes, bytes], bool]:
    scheme = ec.ECDSA(hash_)

    def verify(key: object, signature: bytes, data: bytes) -> bool:
        assert isinstance(key, ec.EllipticCurvePublicKey)
        # JWS carries R || S as fixed-width big-endian integers (RFC 7518 §3.4), not DER.
        if len(signature) != 2 * coordinate_bytes:
            return False
        r = int.from_bytes(signature[:coordinate_bytes], "big")
        s = int.from_bytes(signature[coordinate_bytes:], "big")
        try:
            key.verify(utils.encode_dss_signature(r, s), data, scheme)
        except InvalidSignature:
            return False
        return True

    return verify


def _eddsa(key: object, signature: bytes, data: bytes) -> bool:
    assert isinstance(key, ed25519.Ed25519PublicKey)
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in (
        Algorithm("RS256", "RSA", None, _rsa_pkcs1(hashes.SHA256())),
        Algorithm("RS384", "RSA", None, _rsa_pkcs1(hashes.SHA384())),
        Algorithm("RS512", "RSA", None, _rsa_pkcs1(hashes.SHA512())),
        Algorithm("PS256", "RSA", None, _rsa_pss(hashes.SHA256())),
        Algorithm("PS384", "RSA", None, _rsa_pss(hashes.SHA384())),
        Algorithm("ES256", "EC", "P-256", _ecdsa(hashes.SHA256(), 32)),
        Algorithm("ES384", "EC", "P-384", _ecdsa(hashes.SHA384(), 48)),
        Algorithm("EdDSA", "OKP", "Ed25519", _eddsa),
    )
}
"""Every algorithm this version verifies, by its JWS ``alg`` name."""


def is_refused_always(alg: str) -> bool:
    """``none`` and the symmetric ``HS*`` family: never acceptable, whatever an App allows."""
    return alg.lower() == "none" or alg.upper().startswith("HS")


def check_allowlist(algorithms: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate an App's ``identity.algorithms``; raise ``ValueError`` naming the bad entry."""
    if not algorithms:
        raise ValueError("identity.algorithms: must name at least one algorithm")
    for index, alg in enumerate(algorithms):
        if alg not in ALGORITHMS:
            raise ValueError(
                f"identity.algorithms[{index}]: {alg!r} is not supported; "
                f"use one of {', '.join(ALGORITHMS)}"
            )
    return tuple(algorithms)
