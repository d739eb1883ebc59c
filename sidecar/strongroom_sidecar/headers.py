"""The ``Strongroom-*`` request headers: parsed once, consumed, never forwarded.

Also the rule for which of the caller's headers reach the upstream: everything except
hop-by-hop headers, ``Host`` and every ``Strongroom-*`` header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from multidict import CIMultiDict, CIMultiDictProxy

from strongroom_core import audit, rules
from strongroom_sidecar import problems

TARGET = "Strongroom-Target"
GRANT = "Strongroom-Grant"
PROVIDER = "Strongroom-Provider"
USER_TOKEN = "Strongroom-User-Token"  # noqa: S105 - a header name, not a secret
AGENT_KEY = "Strongroom-Agent-Key"
REASON = "Strongroom-Reason"
CONTEXT = "Strongroom-Context"
AUDIT_ID = "Strongroom-Audit-Id"
NARROW = rules.NARROW_HEADER
"""``Strongroom-Narrow``: a JSON object narrowing this one call (methods, paths, hosts)."""
PREFIX = "strongroom-"

MAX_TARGET_LENGTH = 8192
MAX_CONTEXT_BYTES = 4096
MAX_CONTEXT_ENTRIES = 32
MAX_CONTEXT_KEY = 64
MAX_CONTEXT_VALUE = 512
# Kubernetes object names (DNS-1123 subdomain).
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_NOT_FORWARDED = HOP_BY_HOP | {"host", "expect"}


@dataclass(frozen=True, slots=True)
class CallHeaders:
    target: str
    grant: str | None = None
    provider: str | None = None
    user_token: str | None = field(default=None, repr=False)
    agent_key: str | None = field(default=None, repr=False)
    reason: str = ""
    context: dict[str, str] = field(default_factory=dict)
    trace_id: str = ""
    narrowing: rules.Narrowing | None = None


def parse(headers: Mapping[str, str]) -> CallHeaders:
    """Read the Strongroom headers; raises a :class:`problems.Refusal` naming the header."""
    target = headers.get(TARGET, "").strip()
    if not target:
        raise problems.Refusal(
            "missing_target",
            f"{TARGET} is required: the absolute upstream URL, e.g. https://api.example.com/v1/x",
        )
    if len(target) > MAX_TARGET_LENGTH:
        raise problems.Refusal(
            "invalid_target", f"{TARGET} is longer than {MAX_TARGET_LENGTH} characters"
        )
    return CallHeaders(
        target=target,
        grant=_name(headers, GRANT),
        provider=_name(headers, PROVIDER),
        user_token=_opaque(headers, USER_TOKEN),
        agent_key=_opaque(headers, AGENT_KEY),
        reason=headers.get(REASON, "").strip()[: audit.MAX_REASON_LENGTH],
        context=_context(headers.get(CONTEXT)),
        trace_id=_trace_id(headers.get("traceparent", "")),
        narrowing=_narrowing(headers.get(NARROW)),
    )


def _narrowing(raw: str | None) -> rules.Narrowing | None:
    if raw is None:
        return None
    try:
        return rules.parse_narrowing(raw.strip())
    except rules.NarrowingError as e:
        raise problems.Refusal("invalid_header", str(e)) from None


def _name(headers: Mapping[str, str], header: str) -> str | None:
    value = headers.get(header)
    if value is None:
        return None
    value = value.strip()
    if not _NAME.match(value):
        raise problems.Refusal(
            "invalid_header",
            f"{header}: {value[:80]!r} is not a resource name (lower case letters, digits, "
            "'-' and '.', at most 253 characters)",
        )
    return value


def _opaque(headers: Mapping[str, str], header: str) -> str | None:
    value = headers.get(header)
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise problems.Refusal("invalid_header", f"{header}: empty; leave the header out instead")
    return value


def _context(raw: str | None) -> dict[str, str]:
    if raw is None:
        return {}
    if len(raw.encode()) > MAX_CONTEXT_BYTES:
        raise problems.Refusal(
            "invalid_header", f"{CONTEXT}: longer than {MAX_CONTEXT_BYTES} bytes"
        )
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise problems.Refusal(
            "invalid_header", f'{CONTEXT}: not JSON; send an object like {{"ticket": "T-1"}}'
        ) from None
    if not isinstance(parsed, dict):
        raise problems.Refusal("invalid_header", f"{CONTEXT}: must be a JSON object")
    if len(parsed) > MAX_CONTEXT_ENTRIES:
        raise problems.Refusal(
            "invalid_header", f"{CONTEXT}: more than {MAX_CONTEXT_ENTRIES} entries"
        )
    for key, value in parsed.items():
        if not isinstance(value, str):
            raise problems.Refusal(
                "invalid_header", f"{CONTEXT}: value of {key[:MAX_CONTEXT_KEY]!r} is not a string"
            )
        if len(key) > MAX_CONTEXT_KEY or len(value) > MAX_CONTEXT_VALUE:
            raise problems.Refusal(
                "invalid_header",
                f"{CONTEXT}: keys are at most {MAX_CONTEXT_KEY} and values at most "
                f"{MAX_CONTEXT_VALUE} characters",
            )
    return parsed


def _trace_id(traceparent: str) -> str:
    """W3C ``traceparent`` → its trace id, so audit lines join the caller's traces."""
    parts = traceparent.strip().split("-")
    if len(parts) == 4 and len(parts[1]) == 32 and all(c in "0123456789abcdef" for c in parts[1]):
        return parts[1]
    return ""


def forwarded(incoming: CIMultiDictProxy[str], replaced: Iterable[str] = ()) -> CIMultiDict[str]:
    """The caller's headers as sent upstream: without hop-by-hop headers (and those the
    ``Connection`` header names), ``Host``, ``Expect``, any ``Strongroom-*`` header, and the
    headers injection is about to set (``replaced``)."""
    dropped = set(_NOT_FORWARDED)
    dropped.update(name.strip().lower() for name in replaced)
    _add_connection_tokens(dropped, incoming)
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in incoming.items():
        lowered = name.lower()
        if lowered in dropped or lowered.startswith(PREFIX):
            continue
        out.add(name, value)
    return out


def response_headers(upstream: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    """Upstream response headers as handed back: without hop-by-hop headers."""
    dropped: frozenset[str] | set[str] = HOP_BY_HOP
    if "Connection" in upstream:  # rare on a keep-alive answer; spares a set copy per call
        dropped = set(HOP_BY_HOP)
        _add_connection_tokens(dropped, upstream)
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in upstream.items():
        if name.lower() not in dropped:
            out.add(name, value)
    return out


def _add_connection_tokens(dropped: set[str], message: CIMultiDictProxy[str]) -> None:
    """The headers a ``Connection`` header names are hop-by-hop too (RFC 9110, 7.6.1)."""
    for value in message.getall("Connection", ()):
        dropped.update(token.strip().lower() for token in value.split(","))
