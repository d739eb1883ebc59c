"""TLS for the emulator: a throwaway self-signed certificate for 127.0.0.1, so clients can be
tested with a CA bundle as they are in a cluster."""

from __future__ import annotations

import ssl
from pathlib import Path

from tests.support import certificates


def server_context(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """An SSL context serving a fresh self-signed certificate, and the path of that
    certificate (the CA bundle a client must trust)."""
    cert_path, key_path = certificates.self_signed_loopback(
        directory, "strongroom-kube-emulator", "ca"
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path
