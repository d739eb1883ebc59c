"""From a sidecar error response to the typed exception.

The code in the `Strongroom-Error` header decides the type; the body
(`application/problem+json`) supplies title and detail. A code not listed here gives a plain
`SidecarError`, so a newer sidecar with new codes still produces a catchable error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import httpx

from strongroom import _exceptions, _protocol

ERROR_TYPES: dict[str, type[_exceptions.SidecarError]] = {
    "missing_target": _exceptions.InvalidRequest,
    "invalid_target": _exceptions.InvalidRequest,
    "invalid_header": _exceptions.InvalidRequest,
    "grant_unspecified": _exceptions.InvalidRequest,
    "host_not_allowed": _exceptions.PolicyDenied,
    "insecure_scheme": _exceptions.PolicyDenied,
    "userinfo_in_url": _exceptions.PolicyDenied,
    "ip_literal_not_allowed": _exceptions.PolicyDenied,
    "policy_denied": _exceptions.PolicyDenied,
    "agent_suspended": _exceptions.PolicyDenied,
    "principal_mismatch": _exceptions.PolicyDenied,
    "rate_limited": _exceptions.PolicyDenied,
    "quota_exceeded": _exceptions.PolicyDenied,
    "principal_token_required": _exceptions.IdentityRequired,
    "invalid_user_token": _exceptions.IdentityRequired,
    "invalid_agent_key": _exceptions.IdentityRequired,
    "jwt_identity_not_available": _exceptions.IdentityRequired,
    "identity_not_configured": _exceptions.IdentityRequired,
    "malformed_token": _exceptions.IdentityRequired,
    "algorithm_not_allowed": _exceptions.IdentityRequired,
    "unknown_key": _exceptions.IdentityRequired,
    "bad_signature": _exceptions.IdentityRequired,
    "token_expired": _exceptions.IdentityRequired,
    "token_not_yet_valid": _exceptions.IdentityRequired,
    "wrong_issuer": _exceptions.IdentityRequired,
    "wrong_audience": _exceptions.IdentityRequired,
    "missing_claim": _exceptions.IdentityRequired,
    "reauthorization_required": _exceptions.ReauthorizationRequired,
    "grant_not_found": _exceptions.GrantNotFound,
    "provider_not_found": _exceptions.GrantNotFound,
    "ambiguous_grant": _exceptions.AmbiguousGrant,
    "grant_revoked": _exceptions.GrantRevoked,
    "grant_expired": _exceptions.GrantRevoked,
    "credential_unavailable": _exceptions.CredentialUnavailable,
    "refresh_unavailable": _exceptions.CredentialUnavailable,
    "internal_error": _exceptions.SidecarError,
    "upstream_error": _exceptions.UpstreamError,
    "upstream_timeout": _exceptions.UpstreamError,
    "audit_unavailable": _exceptions.AuditUnavailable,
}

UNAVAILABLE_CODES = frozenset({"not_ready", "overloaded", "jwks_unavailable"})
"""Codes meaning "try again later": raised as `SidecarUnavailable`."""

DETAIL_MAX_CHARS = 500
REDACTED = "[redacted]"


def is_sidecar_error(response: httpx.Response) -> bool:
    """Whether the sidecar itself produced this response (an upstream's errors are responses)."""
    return _protocol.ERROR in response.headers


def error_for(
    response: httpx.Response, secrets: Iterable[str]
) -> _exceptions.SidecarError | _exceptions.SidecarUnavailable:
    """The exception for a sidecar error response whose body has been read."""
    problem = _problem(response)
    code = response.headers.get(_protocol.ERROR, "").strip() or str(problem.get("code", ""))
    code = code or "unknown"
    title = _clean(str(problem.get("title", "")), secrets)
    detail = _clean(str(problem.get("detail", "")), secrets)
    audit_id = response.headers.get(_protocol.AUDIT_ID)
    explanation = detail or title or response.reason_phrase
    message = f"{code} (HTTP {response.status_code}) from the Strongroom sidecar: {explanation}"
    if audit_id:
        message += f" [audit id {audit_id}]"
    error_type: type[_exceptions.SidecarUnavailable | _exceptions.SidecarError]
    if code in UNAVAILABLE_CODES:
        error_type = _exceptions.SidecarUnavailable
        message += "; retry later"
    else:
        error_type = ERROR_TYPES.get(code, _exceptions.SidecarError)
    return error_type(
        message,
        code=code,
        status=response.status_code,
        title=title,
        detail=detail,
        audit_id=audit_id,
        response=response,
    )


def _problem(response: httpx.Response) -> _protocol.ProblemDocument:
    # A broken body must not hide the error the header already names.
    try:
        document = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(document, dict):
        return {}
    problem: _protocol.ProblemDocument = {}
    for key in ("type", "title", "detail", "code"):
        if isinstance(document.get(key), str):
            problem[key] = document[key]
    return problem


def _clean(text: str, secrets: Iterable[str]) -> str:
    """Truncated and with the call's secrets removed, in case a server echoes a header."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    if len(text) > DETAIL_MAX_CHARS:
        text = text[: DETAIL_MAX_CHARS - 1] + "…"
    return text
