"""Errors raised by sealing.

::

    SealingError
    ├── UnknownKeyError          the blob names a key id the keyring does not hold (carries .kid)
    ├── TamperedError            authentication failed: altered, or bound to something else
    ├── MalformedEnvelopeError   the blob is not an envelope of a format this version reads
    └── MalformedKeyDocumentError  a stored key document is not in the expected format

Messages never include key material, plaintext or the blob itself (a blob may be a plaintext
token pasted into the wrong field); only key ids and field names, which are not secret.
"""

from __future__ import annotations


class SealingError(Exception):
    """Base class: sealing or opening failed."""


class UnknownKeyError(SealingError):
    """The blob was sealed with a key this keyring does not hold.

    A sidecar catches this to fetch its App's keys again: a rotation added a key it has not seen.
    """

    def __init__(self, kid: str, message: str | None = None) -> None:
        super().__init__(
            message
            or f"sealed with key id {kid!r}, which this keyring does not hold; "
            "fetch the current keys and retry"
        )
        self.kid = kid


class TamperedError(SealingError):
    """The envelope failed authentication.

    Deliberately does not say whether the blob was altered or copied to another grant, provider,
    App, principal or namespace: telling them apart would help an attacker probe bindings.
    """


class MalformedEnvelopeError(SealingError):
    """The value is not an envelope in a format this version can read."""


class MalformedKeyDocumentError(SealingError):
    """A root-keys, App-keys or sealing-key document is not in the expected format."""
