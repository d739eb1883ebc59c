"""Checks of the caller's arguments, so a mistake fails before anything is sent.

Every error names the argument and says what to do. Secret arguments (`user_token`,
`agent_key`) are described, never echoed.
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Mapping
from typing import Any

import httpx
from httpx import _types as httpx_types

from strongroom import _exceptions, _protocol

_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NAME = re.compile(r"[\x21-\x7e]+")
"""Grant and provider names: visible ASCII (Kubernetes names are narrower; the sidecar decides)."""
_SECRET = re.compile(r"[\x21-\x7e]+")
"""JWTs and API keys are visible ASCII; anything else is a paste accident."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def method(value: object) -> str:
    if not isinstance(value, str) or not _METHOD.fullmatch(value):
        raise _exceptions.UsageError(
            f"method: expected an HTTP method such as 'GET' or 'POST', got {value!r}"
        )
    return value.upper()


def target(url: object, params: httpx_types.QueryParamTypes | None) -> httpx.URL:
    """The absolute upstream URL with `params` merged into its query, as httpx merges them.

    The fragment is dropped: it is never sent over HTTP. The URL is not echoed in errors, as
    some APIs take keys in the query string.
    """
    if not isinstance(url, str | httpx.URL):
        raise _exceptions.UsageError(
            f"url: expected a string or httpx.URL, got {type(url).__name__}"
        )
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as e:
        raise _exceptions.UsageError(f"url: not a valid URL ({e})") from e
    if not parsed.is_absolute_url or not parsed.host:
        raise _exceptions.UsageError(
            "url: must be the third-party API's absolute URL, such as "
            "'https://api.github.com/user' (the sidecar forwards to it)"
        )
    if parsed.scheme not in ("http", "https"):
        raise _exceptions.UsageError(
            f"url: the scheme must be https (or http where policy allows it), got {parsed.scheme!r}"
        )
    if parsed.userinfo:
        raise _exceptions.UsageError(
            "url: must not contain a user name or password; the sidecar injects the credential"
        )
    if params is not None:
        parsed = parsed.copy_merge_params(params)
    return parsed.copy_with(fragment=None)


def name(value: object, argument: str) -> str | None:
    """A grant or provider name, or None when not given."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _exceptions.UsageError(f"{argument}: expected a string, got {type(value).__name__}")
    if not _NAME.fullmatch(value):
        raise _exceptions.UsageError(
            f"{argument}: expected a non-empty name without spaces or control characters, "
            f"got {value!r}"
        )
    return value


def secret(value: object, argument: str) -> str | None:
    """A user token or agent key, or None when not given. Never echoed."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _exceptions.UsageError(f"{argument}: expected a string, got {type(value).__name__}")
    if not _SECRET.fullmatch(value):
        raise _exceptions.UsageError(
            f"{argument}: expected a non-empty string of visible ASCII characters without "
            "spaces (check for a stray newline or 'Bearer ' prefix); the value is not shown"
        )
    return value


def selector(grant: str | None, provider: str | None) -> None:
    if grant is not None and provider is not None:
        raise _exceptions.UsageError(
            "grant and provider: pass one of them, not both: grant= names the grant to use, "
            "provider= lets the sidecar resolve the grant for the caller"
        )


def reason(value: object) -> bytes | None:
    """The audit reason as the header's UTF-8 bytes, or None when not given or empty."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _exceptions.UsageError(f"reason: expected a string, got {type(value).__name__}")
    if len(value) > _protocol.REASON_MAX_CHARS:
        raise _exceptions.UsageError(
            f"reason: at most {_protocol.REASON_MAX_CHARS} characters, got {len(value)}; "
            "shorten it or move details into context="
        )
    if _CONTROL.search(value):
        raise _exceptions.UsageError(
            "reason: must be a single line without control characters (newline, tab, ...)"
        )
    return value.encode("utf-8")


def context(value: object) -> str | None:
    """The audit context as compact ASCII JSON, or None when not given or empty."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _exceptions.UsageError(
            f"context: expected a dict of string to string, got {type(value).__name__}"
        )
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise _exceptions.UsageError(
                f"context: keys and values must be strings; {key!r} maps to a "
                f"{type(item).__name__}, convert it with str() first"
            )
    if not value:
        return None
    return jsonlib.dumps(dict(value), ensure_ascii=True, separators=(",", ":"))


NARROW_KEYS = ("methods", "paths", "hosts")


def narrow(value: object) -> str | None:
    """The per-call narrowing as compact ASCII JSON, or None when not given."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _exceptions.UsageError(
            f"narrow: expected a dict with methods, paths and/or hosts, got {type(value).__name__}"
        )
    unknown = sorted(str(key) for key in value if key not in NARROW_KEYS)
    if unknown:
        raise _exceptions.UsageError(
            f"narrow: unknown key(s) {', '.join(unknown)}; use {', '.join(NARROW_KEYS)}"
        )
    document: dict[str, list[str]] = {}
    for key, items in value.items():
        if isinstance(items, str) or not isinstance(items, (list, tuple)):
            raise _exceptions.UsageError(f"narrow.{key}: expected a list of strings")
        if not all(isinstance(item, str) for item in items):
            raise _exceptions.UsageError(f"narrow.{key}: every item must be a string")
        document[str(key)] = list(items)
    return jsonlib.dumps(document, ensure_ascii=True, separators=(",", ":"))


def caller_headers(value: httpx_types.HeaderTypes | None, argument: str) -> httpx.Headers:
    """The caller's own headers, refusing the sidecar's: they have their own arguments."""
    try:
        headers = httpx.Headers(value)
    except (TypeError, ValueError, UnicodeError) as e:
        raise _exceptions.UsageError(f"{argument}: not usable as HTTP headers ({e})") from e
    for key in headers:
        if key.lower().startswith(_protocol.HEADER_PREFIX):
            raise _exceptions.UsageError(
                f"{argument}: the header {key!r} is reserved for the sidecar; use the "
                "arguments grant=, provider=, user_token=, agent_key=, reason= and context="
            )
    return headers


def body(*, json: Any, data: Any, files: Any, content: Any) -> None:
    """At most one kind of body (data= and files= together make one multipart body).

    httpx would silently drop all but one of them; a dropped body is a bug the caller wants to
    hear about.
    """
    given = [
        label
        for label, present in (
            ("content", content is not None),
            ("json", json is not None),
            ("data/files", data is not None or files is not None),
        )
        if present
    ]
    if len(given) > 1:
        raise _exceptions.UsageError(
            f"{' and '.join(given)}: pass one kind of body only "
            "(data= and files= may be combined into a multipart body)"
        )


def timeout(value: object, argument: str) -> httpx.Timeout:
    """httpx's timeout forms: seconds, None for none, a 4-tuple or an httpx.Timeout."""
    fix = f"{argument}: expected seconds as a non-negative number, None or an httpx.Timeout"
    try:
        result = httpx.Timeout(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as e:
        raise _exceptions.UsageError(f"{fix} ({e})") from e
    for seconds in (result.connect, result.read, result.write, result.pool):
        valid = seconds is None or (
            isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0
        )
        if not valid:
            raise _exceptions.UsageError(f"{fix}, got {value!r}")
    return result
