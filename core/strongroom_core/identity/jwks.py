"""Parse a JWKS document (RFC 7517) into verification keys, keyed by ``kid``.

What a key must be to be used:

- ``kty`` ``RSA`` (at least 2048 bits), ``EC`` on ``P-256``/``P-384``, or ``OKP`` on ``Ed25519``;
- ``use`` absent or ``sig``; ``key_ops`` absent or containing ``verify``;
- ``alg`` absent or an algorithm of :mod:`.algorithms` matching the key type and curve;
- no private members (``d``, ``p``, ``q``, ...): a provider that publishes its private key lets
  anyone sign, so such a key is refused, not trimmed to its public half;
- a ``kid`` no other key in the document has (two keys with one ``kid`` are both refused: which
  one the provider signs with is a guess).

Real providers publish encryption keys (``use: enc``) and key types this version does not verify
beside their signing keys, so by default a refused key is left out and described in
:attr:`KeySet.refused` (index, field, reason) for the sidecar to log; ``strict=True`` raises
:class:`errors.JwksError` for the first one instead. Messages never quote key material.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from strongroom_core.identity import algorithms, encoding, errors

MAX_DOCUMENT_BYTES = 256 * 1024
MAX_KEYS = 100

PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_CURVES: dict[str, tuple[ec.EllipticCurve, int]] = {
    "P-256": (ec.SECP256R1(), 32),
    "P-384": (ec.SECP384R1(), 48),
}


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """One public key, parsed once. ``algorithms`` are the JWS algorithms it may verify."""

    kid: str | None
    kty: algorithms.KeyType
    crv: str | None
    alg: str | None
    algorithms: frozenset[str]
    public_key: object = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class RefusedKey:
    index: int
    kid: str | None
    field: str
    reason: str

    def describe(self) -> str:
        kid = f" (kid {self.kid!r})" if self.kid is not None else ""
        return f"keys[{self.index}].{self.field}{kid}: {self.reason}"


@dataclass(frozen=True, slots=True, eq=False)
class KeySet(Mapping[str | None, VerificationKey]):
    """The usable keys of one JWKS document by ``kid`` (``None`` for a key without one).

    Compared by identity: a verified-token cache knows the keys changed when the set is another
    object."""

    by_kid: Mapping[str | None, VerificationKey]
    refused: tuple[RefusedKey, ...] = ()

    def __getitem__(self, kid: str | None) -> VerificationKey:
        return self.by_kid[kid]

    def __iter__(self) -> Iterator[str | None]:
        return iter(self.by_kid)

    def __len__(self) -> int:
        return len(self.by_kid)

    def key_for(self, kid: str | None) -> VerificationKey | None:
        """The key a token with this ``kid`` names. A token without a ``kid`` may only use a
        set's single key: trying several keys would multiply the cost of forged tokens."""
        key = self.by_kid.get(kid)
        if key is None and kid is None and len(self.by_kid) == 1:
            return next(iter(self.by_kid.values()))
        return key


EMPTY = KeySet({})


class _Refused(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def parse_jwks(document: bytes | str | Mapping[str, Any], *, strict: bool = False) -> KeySet:
    """Parse a JWKS document; raise :class:`errors.JwksError` if the document itself is unusable
    (or, with ``strict``, if any key is refused)."""
    if isinstance(document, bytes | str):
        if len(document) > MAX_DOCUMENT_BYTES:
            raise errors.JwksError(f"JWKS: larger than {MAX_DOCUMENT_BYTES} bytes")
        try:
            document = encoding.json_object(document)
        except ValueError as e:
            raise errors.JwksError(f"JWKS: {e}") from None
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise errors.JwksError("JWKS.keys: required, a list of keys")
    if len(entries) > MAX_KEYS:
        raise errors.JwksError(f"JWKS.keys: more than {MAX_KEYS} keys")
    usable: dict[str | None, VerificationKey] = {}
    refused: list[RefusedKey] = []
    duplicated: set[str | None] = set()
    for index, entry in enumerate(entries):
        kid = entry.get("kid") if isinstance(entry, dict) else None
        kid = kid if isinstance(kid, str) else None
        try:
            key = parse_key(entry)
        except _Refused as e:
            refusal = RefusedKey(index, kid, e.field, e.reason)
            if strict:
                raise errors.JwksError(refusal.describe()) from None
            refused.append(refusal)
            continue
        if key.kid in usable or key.kid in duplicated:
            refusal = RefusedKey(
                index, key.kid, "kid", "another key has the same kid; both refused"
            )
            if strict:
                raise errors.JwksError(refusal.describe())
            refused.append(refusal)
            usable.pop(key.kid, None)
            duplicated.add(key.kid)
            continue
        usable[key.kid] = key
    return KeySet(usable, tuple(refused))


def parse_key(entry: object) -> VerificationKey:
    if not isinstance(entry, dict):
        raise _Refused("kty", "the key is not a JSON object")
    kid = entry.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise _Refused("kid", "must be a string")
    for name in PRIVATE_MEMBERS:
        if name in entry:
            raise _Refused(name, "private key member published; the key is compromised")
    use = entry.get("use")
    if use is not None and use != "sig":
        raise _Refused("use", f"{use!r} is not 'sig'" if isinstance(use, str) else "not 'sig'")
    ops = entry.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        raise _Refused("key_ops", "does not include 'verify'")
    kty = entry.get("kty")
    key: object
    crv: str | None
    if kty == "RSA":
        key, crv = _rsa(entry), None
    elif kty == "EC":
        key, crv = _ec(entry)
    elif kty == "OKP":
        key, crv = _okp(entry)
    else:
        raise _Refused("kty", f"{kty!r} is not supported; RSA, EC and OKP are")
    possible = frozenset(
        a.name for a in algorithms.ALGORITHMS.values() if a.kty == kty and a.crv == crv
    )
    alg = entry.get("alg")
    if alg is not None:
        if not isinstance(alg, str) or alg not in possible:
            shown = repr(alg) if isinstance(alg, str) else "this value"
            raise _Refused("alg", f"{shown} cannot be used with a {kty} {crv or ''} key".strip())
        possible = frozenset({alg})
    return VerificationKey(kid, kty, crv, alg, possible, key)


def _member(entry: dict[str, Any], name: str) -> bytes:
    value = entry.get(name)
    if not isinstance(value, str):
        raise _Refused(name, "required, a base64url string")
    try:
        return encoding.b64url_decode(value)
    except ValueError:
        raise _Refused(name, "not unpadded base64url") from None


def _rsa(entry: dict[str, Any]) -> rsa.RSAPublicKey:
    n = int.from_bytes(_member(entry, "n"), "big")
    e = int.from_bytes(_member(entry, "e"), "big")
    if n.bit_length() < algorithms.RSA_MIN_BITS:
        raise _Refused("n", f"modulus shorter than {algorithms.RSA_MIN_BITS} bits")
    try:
        return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError:
        raise _Refused("e", "not a valid RSA public exponent for this modulus") from None


def _ec(entry: dict[str, Any]) -> tuple[ec.EllipticCurvePublicKey, str]:
    crv = entry.get("crv")
    if not isinstance(crv, str) or crv not in _CURVES:
        raise _Refused("crv", f"must be one of {', '.join(_CURVES)}")
    curve, size = _CURVES[crv]
    x, y = _member(entry, "x"), _member(entry, "y")
    for name, raw in (("x", x), ("y", y)):
        if len(raw) != size:
            raise _Refused(name, f"must be {size} bytes for {crv}")
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve
    )
    try:
        return numbers.public_key(), crv
    except ValueError:
        raise _Refused("x", f"the point is not on {crv}") from None


def _okp(entry: dict[str, Any]) -> tuple[ed25519.Ed25519PublicKey, str]:
    crv = entry.get("crv")
    if crv != "Ed25519":
        raise _Refused("crv", "must be Ed25519")
    x = _member(entry, "x")
    if len(x) != 32:
        raise _Refused("x", "must be 32 bytes for Ed25519")
    try:
        return ed25519.Ed25519PublicKey.from_public_bytes(x), crv
    except ValueError:
        raise _Refused("x", "not an Ed25519 public key") from None
