"""Where `strongroom seal` and `strongroom grant import` get the control plane's public key."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path


class PublicKeyError(Exception):
    """The public key could not be had; the message says from where and what to do."""


def from_file(path: Path) -> str:
    try:
        text = path.read_text()
    except OSError as e:
        raise PublicKeyError(f"--public-key {path}: cannot read: {e.strerror}") from None
    if "BEGIN PUBLIC KEY" not in text:
        raise PublicKeyError(f"--public-key {path}: not a PEM public key")
    return text


def tls_context(ca_file: Path | None) -> ssl.SSLContext | None:
    """Verify the control plane against ``ca_file`` (its CA bundle) or the system store."""
    if ca_file is None:
        return None
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as e:
        raise PublicKeyError(f"--ca-file {ca_file}: not a readable PEM CA bundle ({e})") from None


def from_server(server: str, timeout: float = 10.0, *, ca_file: Path | None = None) -> str:
    """GET {server}/v1/sealing-key (public: no token needed). ``server`` may carry a path
    prefix, as the API server's service proxy URL does."""
    url = server.rstrip("/") + "/v1/sealing-key"
    if not url.startswith(("https://", "http://")):
        raise PublicKeyError(f"--server {server}: expected an http(s) URL")
    context = tls_context(ca_file)
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:  # noqa: S310 (scheme checked)
            document = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise PublicKeyError(f"--server {server}: cannot fetch the sealing key: {e}") from None
    key = document.get("publicKey") if isinstance(document, dict) else None
    if not isinstance(key, str) or "BEGIN PUBLIC KEY" not in key:
        raise PublicKeyError(f"--server {server}: answer has no publicKey")
    return key
