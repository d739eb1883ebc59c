"""Where the sidecar listens: `base_url=` if given, else STRONGROOM_URL, else the default.

The admission webhook sets STRONGROOM_URL in every app container, so application code normally
passes nothing. The address is checked once, when the App is created, so a typo fails at start-up
with a message naming the variable instead of at the first call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import httpx

from strongroom import _exceptions, _protocol

ENV_VAR = "STRONGROOM_URL"
DEFAULT_URL = "http://127.0.0.1:15080"


def sidecar_base_url(
    base_url: str | httpx.URL | None, environ: Mapping[str, str] | None = None
) -> httpx.URL:
    """The sidecar's base URL from the argument, the environment or the default; validated."""
    if base_url is not None:
        return _validated(base_url, source="base_url")
    environ = os.environ if environ is None else environ
    # An empty variable counts as unset, as shells and manifests often leave one behind.
    raw = environ.get(ENV_VAR, "")
    if raw:
        return _validated(raw, source=ENV_VAR)
    return _validated(DEFAULT_URL, source="the default sidecar address")


def proxy_url(base: httpx.URL) -> httpx.URL:
    """The proxy endpoint under the base URL (a path prefix on the base URL is kept)."""
    return base.copy_with(path=base.path.rstrip("/") + _protocol.PROXY_PATH)


def _validated(raw: str | httpx.URL, *, source: str) -> httpx.URL:
    fix = (
        f"set {ENV_VAR} to the sidecar's base URL, such as {DEFAULT_URL}, or unset it to use "
        "that default"
        if source == ENV_VAR
        else f"pass the sidecar's base URL, such as {DEFAULT_URL}"
    )
    if not isinstance(raw, str | httpx.URL):
        raise _exceptions.UsageError(f"{source}: expected a string, got {type(raw).__name__}")
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as e:
        raise _exceptions.UsageError(f"{source} is not a valid URL ({e}); {fix}") from e
    if url.userinfo:
        # The value is not repeated: a password in it must not reach a log.
        raise _exceptions.UsageError(f"{source} must not contain a user name or password; {fix}")
    shown = f"{source}={str(raw)!r}"
    if url.scheme not in ("http", "https") or not url.host:
        raise _exceptions.UsageError(f"{shown} must be an absolute http:// or https:// URL; {fix}")
    if url.query or url.fragment:
        raise _exceptions.UsageError(f"{shown} must not have a query or a fragment; {fix}")
    return url
