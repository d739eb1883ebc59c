"""AES-256-GCM envelopes: ``sr1.<kid>.<b64url nonce>.<b64url ciphertext>``.

The format version and the key id travel in the envelope, and both are also inside the
associated data, so neither can be edited without the envelope failing to open. Nonces are 96
random bits per seal; a data key seals far fewer than the 2**32 messages where random nonces
would become a worry (rotation replaces it long before).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom_core.sealing import encoding, errors, keys

FORMAT = "sr1"
NONCE_BYTES = 12
TAG_BYTES = 16


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed envelope. Nothing here is secret: the ciphertext is authenticated ciphertext."""

    kid: str
    nonce: bytes
    ciphertext: bytes


def _full_aad(kid: str, aad: bytes) -> bytes:
    # Neither the format tag nor a key id can contain a newline, so the split is unambiguous.
    return f"{FORMAT}\n{kid}\n".encode("ascii") + aad


def seal(key: keys.DataKey, plaintext: bytes, aad: bytes) -> str:
    """Seal ``plaintext`` with ``key``, bound to ``aad`` (see ``bindings``)."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = AESGCM(key.material).encrypt(nonce, plaintext, _full_aad(key.kid, aad))
    return ".".join(
        (FORMAT, key.kid, encoding.b64url_encode(nonce), encoding.b64url_encode(ciphertext))
    )


def parse(blob: str) -> Envelope:
    """Split an envelope into its parts, or raise ``MalformedEnvelopeError``.

    The error never echoes the blob: a user who pastes a plaintext token where a sealed value
    belongs must not find it in a log line.
    """
    if not isinstance(blob, str):
        raise errors.MalformedEnvelopeError("a sealed value must be a string")
    parts = blob.split(".")
    if len(parts) != 4 or parts[0] != FORMAT:
        raise errors.MalformedEnvelopeError(
            f"not a sealed value: expected {FORMAT}.<key id>.<nonce>.<ciphertext>; "
            "seal the value with Strongroom instead of pasting it"
        )
    _, kid, nonce_text, ciphertext_text = parts
    if not keys.is_valid_kid(kid):
        raise errors.MalformedEnvelopeError("sealed value: the key id is not a valid key id")
    nonce = encoding.b64url_decode(nonce_text)
    if nonce is None or len(nonce) != NONCE_BYTES:
        raise errors.MalformedEnvelopeError("sealed value: the nonce is not 12 bytes of base64url")
    ciphertext = encoding.b64url_decode(ciphertext_text)
    if ciphertext is None or len(ciphertext) < TAG_BYTES:
        raise errors.MalformedEnvelopeError("sealed value: the ciphertext is not valid base64url")
    return Envelope(kid=kid, nonce=nonce, ciphertext=ciphertext)


def key_id(blob: str) -> str:
    """The id of the key a blob was sealed with (``MalformedEnvelopeError`` if not an envelope)."""
    return parse(blob).kid


def open_envelope(keyring: keys.Keyring, blob: str, aad: bytes) -> bytes:
    """Open a blob sealed by ``seal`` with the same ``aad``.

    Raises ``UnknownKeyError`` (carrying the kid) when the keyring lacks the key, so the caller
    can fetch keys again; ``TamperedError`` when the blob was altered or bound elsewhere.
    """
    envelope = parse(blob)
    key = keyring.get(envelope.kid)
    if key is None:
        raise errors.UnknownKeyError(envelope.kid)
    try:
        return AESGCM(key.material).decrypt(
            envelope.nonce, envelope.ciphertext, _full_aad(envelope.kid, aad)
        )
    except InvalidTag:
        raise errors.TamperedError(
            f"sealed value under key {envelope.kid!r} failed authentication: it was altered, "
            "or it belongs to another grant, provider, App, principal or namespace"
        ) from None
