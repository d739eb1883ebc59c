"""Client-side sealing to the control plane's public key (like kubeseal).

``strongroom seal`` encrypts a managed secret on the user's machine so the plaintext never
reaches the API server; only the control plane, holding the private key, can open it, and only
for the namespace, grant and provider it was sealed for.

Scheme: an ephemeral X25519 key per seal; HKDF-SHA256 over the shared secret (salt: both public
keys; info: format tag and kid) gives a one-time AES-256-GCM key; the associated data carries the
format, the kid and the ``ClientSealBinding``. Blob::

    srs1.<kid>.<b64url ephemeral public key>.<b64url nonce>.<b64url ciphertext>

The key id is random, kept in the key's document, and published as an explanatory line in front
of the PEM (RFC 7468 lets parsers ignore text outside the markers), so a value sealed to a key
the control plane no longer holds is reported as such rather than as tampering.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from strongroom_core.sealing import bindings, documents, encoding, errors, keys

FORMAT = "srs1"
DOCUMENT_FORMAT = "strongroom.sealing-key/v1"
KID_HEADER = "Strongroom-Key-Id"
_KID_LINE = re.compile(rf"^{KID_HEADER}:[ \t]*(\S+)[ \t]*$", re.MULTILINE)
_PUBLIC_BYTES = 32
_NONCE_BYTES = 12
_WHAT = "sealing key document"


class SealingKey:
    """The control plane's X25519 key pair for client-side sealing. Its repr hides the key."""

    __slots__ = ("_private", "created", "kid")

    def __init__(self, kid: str, private_key: x25519.X25519PrivateKey, created: int) -> None:
        if not keys.is_valid_kid(kid):
            raise ValueError("a key id is 1-64 characters of A-Z, a-z, 0-9, '_' and '-'")
        self.kid = kid
        self.created = created
        self._private = private_key

    @classmethod
    def generate(cls) -> SealingKey:
        return cls(keys.new_kid(), x25519.X25519PrivateKey.generate(), int(time.time()))

    def public_pem(self) -> str:
        """SubjectPublicKeyInfo PEM, preceded by a ``Strongroom-Key-Id: <kid>`` line."""
        pem = (
            self._private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )
        return f"{KID_HEADER}: {self.kid}\n{pem}"

    def to_document(self) -> dict[str, Any]:
        raw = self._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return {
            "format": DOCUMENT_FORMAT,
            "active": self.kid,
            "keys": [{"kid": self.kid, "key": encoding.b64_encode(raw), "created": self.created}],
        }

    @classmethod
    def from_document(cls, document: Any) -> SealingKey:
        """The active key of a sealing key document (the same shape as the root keys one)."""
        document = documents.check_format(document, _WHAT, DOCUMENT_FORMAT)
        entries = documents.key_entries(document, _WHAT)
        kids = [documents.kid_of(e, _WHAT, i) for i, e in enumerate(entries)]
        active = documents.active_of(document, _WHAT, kids)
        index = kids.index(active)
        raw = documents.material_of(entries[index], _WHAT, index, _PUBLIC_BYTES)
        created = documents.created_of(entries[index], _WHAT, index)
        return cls(active, x25519.X25519PrivateKey.from_private_bytes(raw), created)

    def exchange(self, peer: x25519.X25519PublicKey) -> bytes:
        return self._private.exchange(peer)

    def public_bytes(self) -> bytes:
        return self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def __repr__(self) -> str:
        return f"SealingKey(kid={self.kid!r}, private_key=<redacted>)"

    __str__ = __repr__


def _derive(shared: bytes, ephemeral_public: bytes, recipient_public: bytes, kid: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral_public + recipient_public,
        info=f"strongroom client seal|{FORMAT}|{kid}".encode("ascii"),
    ).derive(shared)


def _aad(kid: str, binding: bindings.ClientSealBinding) -> bytes:
    return f"{FORMAT}\n{kid}\n".encode("ascii") + binding.associated_data()


def kid_from_pem(public_pem: str) -> str | None:
    match = _KID_LINE.search(public_pem)
    if match is None or not keys.is_valid_kid(match.group(1)):
        return None
    return match.group(1)


def seal_to_public_key(
    public_pem: str,
    plaintext: bytes,
    binding: bindings.ClientSealBinding,
    *,
    kid: str | None = None,
) -> str:
    """Seal ``plaintext`` to the control plane's public key for ``binding``.

    The key id comes from ``kid`` or from the PEM's ``Strongroom-Key-Id`` line.
    """
    kid = kid or kid_from_pem(public_pem)
    if kid is None or not keys.is_valid_kid(kid):
        raise errors.SealingError(
            f"the public key has no valid '{KID_HEADER}:' line; fetch it again from the "
            "control plane or pass the key id"
        )
    try:
        recipient = serialization.load_pem_public_key(public_pem.encode("utf-8"))
    except ValueError:
        raise errors.SealingError(
            "the public key is not a PEM SubjectPublicKeyInfo; fetch it again from the "
            "control plane"
        ) from None
    if not isinstance(recipient, x25519.X25519PublicKey):
        raise errors.SealingError("the public key is not an X25519 key; fetch the control plane's")
    ephemeral = x25519.X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    recipient_public = recipient.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key = _derive(ephemeral.exchange(recipient), ephemeral_public, recipient_public, kid)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _aad(kid, binding))
    return ".".join(
        (
            FORMAT,
            kid,
            encoding.b64url_encode(ephemeral_public),
            encoding.b64url_encode(nonce),
            encoding.b64url_encode(ciphertext),
        )
    )


def sealed_key_id(blob: str) -> str:
    """The sealing key id a client-sealed blob names (``MalformedEnvelopeError`` if none)."""
    return _parse(blob)[0]


def _parse(blob: str) -> tuple[str, bytes, bytes, bytes]:
    parts = blob.split(".") if isinstance(blob, str) else []
    if len(parts) != 5 or parts[0] != FORMAT:
        raise errors.MalformedEnvelopeError(
            f"not a client-sealed value: expected {FORMAT}.<key id>.<key>.<nonce>.<ciphertext>; "
            "seal the value with `strongroom seal` instead of pasting it"
        )
    _, kid, ephemeral_text, nonce_text, ciphertext_text = parts
    if not keys.is_valid_kid(kid):
        raise errors.MalformedEnvelopeError("client-sealed value: the key id is not valid")
    ephemeral = encoding.b64url_decode(ephemeral_text)
    nonce = encoding.b64url_decode(nonce_text)
    ciphertext = encoding.b64url_decode(ciphertext_text)
    if ephemeral is None or len(ephemeral) != _PUBLIC_BYTES:
        raise errors.MalformedEnvelopeError("client-sealed value: the ephemeral key is not valid")
    if nonce is None or len(nonce) != _NONCE_BYTES:
        raise errors.MalformedEnvelopeError("client-sealed value: the nonce is not valid")
    if ciphertext is None or len(ciphertext) < 16:
        raise errors.MalformedEnvelopeError("client-sealed value: the ciphertext is not valid")
    return kid, ephemeral, nonce, ciphertext


def open_sealed(key: SealingKey, blob: str, binding: bindings.ClientSealBinding) -> bytes:
    """Open a client-sealed value for ``binding``.

    ``UnknownKeyError`` when it was sealed to another (rotated) sealing key; ``TamperedError``
    when it was altered or sealed for another namespace, grant or provider.
    """
    kid, ephemeral_public, nonce, ciphertext = _parse(blob)
    if kid != key.kid:
        raise errors.UnknownKeyError(
            kid,
            f"the value was sealed to sealing key {kid!r} but the control plane holds "
            f"{key.kid!r}; seal it again with the current public key (strongroom seal)",
        )
    tampered = errors.TamperedError(
        "the client-sealed value failed authentication: it was altered, or it was sealed for "
        "another namespace, grant or provider; seal it again for this Grant"
    )
    try:
        shared = key.exchange(x25519.X25519PublicKey.from_public_bytes(ephemeral_public))
    except ValueError:  # a low-order point gives an all-zero secret; cryptography refuses it
        raise tampered from None
    derived = _derive(shared, ephemeral_public, key.public_bytes(), kid)
    try:
        return AESGCM(derived).decrypt(nonce, ciphertext, _aad(kid, binding))
    except InvalidTag:
        raise tampered from None
