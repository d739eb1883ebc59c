"""An SSL server context whose certificate is replaced in place: ``load_cert_chain`` on the same
context object affects every handshake after it, so the listening socket never closes and
connections already open keep the certificate they started with.

The TLS library loads from files only, so a pair is written into a private folder (0700, files
0600; a writable ``/tmp`` in the pod) and first loaded into a throwaway context: a pair that does
not load (a half-written mount, a key that does not match) never touches the live context,
which would otherwise be left holding a new certificate with the old key.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path

from strongroom_webhook.certs import authority


def _context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class ServingContext:
    def __init__(self) -> None:
        self.context = _context()
        self._directory = Path(tempfile.mkdtemp(prefix="strongroom-webhook-tls-"))
        self.loaded: bytes | None = None
        """The certificate PEM in use (``None`` before the first load)."""

    def load_pair(self, pair: authority.KeyPair) -> bool:
        """Use ``pair`` for the next handshakes; ``True`` when it replaced another. Raises
        ``ssl.SSLError`` (the current certificate stays) when the pair does not load."""
        if pair.cert_pem == self.loaded:
            return False
        cert, key = self._directory / "tls.crt", self._directory / "tls.key"
        for path, content in ((cert, pair.cert_pem), (key, pair.key_pem)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
        _context().load_cert_chain(cert, key)
        self.context.load_cert_chain(cert, key)
        self.loaded = pair.cert_pem
        return True

    def close(self) -> None:
        for name in ("tls.crt", "tls.key"):
            (self._directory / name).unlink(missing_ok=True)
        self._directory.rmdir()
