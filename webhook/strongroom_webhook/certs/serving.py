"""An SSL server context whose certificate is replaced in place: ``load_cert_chain`` on the same
context object affects every handshake after it, so the listening socket never closes and
connections already open keep the certificate they started with."""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path

from strongroom_webhook.certs import authority


class ServingContext:
    def __init__(self, directory: str = "") -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._owned = not directory
        self._directory = Path(directory or tempfile.mkdtemp(prefix="strongroom-webhook-tls-"))
        self.loaded: bytes | None = None
        """The certificate PEM in use (``None`` before the first load)."""

    def load_pair(self, pair: authority.KeyPair) -> None:
        """Use ``pair`` for the next handshakes. The TLS library reads files, so the pair is
        written into a private folder first (mode 0600)."""
        if pair.cert_pem == self.loaded:
            return
        cert, key = self._directory / "tls.crt", self._directory / "tls.key"
        for path, content in ((cert, pair.cert_pem), (key, pair.key_pem)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
        self.load_files(cert, key)

    def load_files(self, cert: Path, key: Path) -> None:
        """``ssl.SSLError``/``OSError`` leave the previous certificate in use."""
        self.context.load_cert_chain(cert, key)
        self.loaded = cert.read_bytes()

    def close(self) -> None:
        if self._owned:
            for name in ("tls.crt", "tls.key"):
                (self._directory / name).unlink(missing_ok=True)
            self._directory.rmdir()
