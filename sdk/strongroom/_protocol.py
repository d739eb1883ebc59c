"""Names of the sidecar protocol, in one place (the SDK's half of the sidecar contract).

The app sends the real method to `{STRONGROOM_URL}/proxy` with its own headers and body; the
`Strongroom-*` request headers below steer the sidecar, which consumes them and never forwards
them upstream. Plain HTTP on purpose, so curl and other languages can speak it too.
"""

from __future__ import annotations

from typing import TypedDict

PROXY_PATH = "/proxy"

HEADER_PREFIX = "strongroom-"
"""Every header with this prefix belongs to the sidecar; callers may not pass their own."""

TARGET = "Strongroom-Target"
"""The absolute upstream URL, query string included (required)."""
GRANT = "Strongroom-Grant"
PROVIDER = "Strongroom-Provider"
USER_TOKEN = "Strongroom-User-Token"  # noqa: S105 (a header name)
"""The end user's JWT. Secret."""
AGENT_KEY = "Strongroom-Agent-Key"
"""An agent's API key. Secret."""
REASON = "Strongroom-Reason"
"""Free text for audit, at most `REASON_MAX_CHARS` characters, sent as UTF-8."""
CONTEXT = "Strongroom-Context"
"""A JSON object of string to string for audit, sent as ASCII JSON."""
NARROW = "Strongroom-Narrow"
"""Per-call narrowing of the policy: a JSON object with `methods`, `paths` and/or `hosts` lists.
It can only narrow: a call outside it is refused with `policy_denied`."""

SECRET_HEADERS = frozenset({USER_TOKEN.lower(), AGENT_KEY.lower()})

AUDIT_ID = "Strongroom-Audit-Id"
"""Response header: the audit record of this call."""
ERROR = "Strongroom-Error"
"""Response header present only on errors produced by the sidecar itself: the error code."""

REASON_MAX_CHARS = 500


class ProblemDocument(TypedDict, total=False):
    """The body of a sidecar error (`application/problem+json`, RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
