"""The sidecar's own refusals: one table of codes, one exception, one response shape.

Every refusal is answered with the header ``Strongroom-Error: <code>`` and an
``application/problem+json`` body built by :func:`strongroom_core.protocol.problem`, so the SDK
and curl users can branch on ``code`` without parsing prose. The ``detail`` names the header,
field or value that was wrong and says what to do; it never carries a credential or a token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiohttp import web

from strongroom_core import protocol

ERROR_HEADER = "Strongroom-Error"
PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Code:
    status: int
    title: str


CODES: dict[str, Code] = {
    # 400: the call itself is malformed
    "missing_target": Code(400, "Strongroom-Target header is required"),
    "invalid_target": Code(400, "Strongroom-Target is not a valid absolute URL"),
    "invalid_header": Code(400, "A Strongroom header is malformed"),
    "grant_unspecified": Code(400, "No grant or provider named"),
    # 403: the credential may not go there, or policy says no
    "host_not_allowed": Code(403, "Target host is not in the provider's allowed hosts"),
    "insecure_scheme": Code(403, "Credentials are only sent over HTTPS"),
    "userinfo_in_url": Code(403, "Target URL carries user information"),
    "ip_literal_not_allowed": Code(403, "Target host is an IP literal"),
    "policy_denied": Code(403, "Policy denied the call"),
    "agent_suspended": Code(403, "The agent is suspended"),
    "principal_mismatch": Code(403, "The grant belongs to another principal"),
    # 429: a rate limit or quota of the policy (counted per sidecar); Retry-After says when
    "rate_limited": Code(429, "A rate limit of the policy was exceeded"),
    "quota_exceeded": Code(429, "A quota of the policy is used up"),
    # 401: the caller must prove who it acts for
    "principal_token_required": Code(401, "This grant needs the end user's token"),
    "invalid_user_token": Code(401, "The end user's token is not valid"),
    "identity_not_configured": Code(401, "The App has no usable JWT identity provider"),
    # the end user's token was refused; one stable code per reason (core identity.errors)
    "malformed_token": Code(401, "The end user's token is malformed"),
    "algorithm_not_allowed": Code(401, "The token's algorithm is not allowed"),
    "unknown_key": Code(401, "The token's key id is not in the App's JWKS"),
    "bad_signature": Code(401, "The token's signature does not verify"),
    "token_expired": Code(401, "The end user's token has expired"),
    "token_not_yet_valid": Code(401, "The end user's token is not valid yet"),
    "wrong_issuer": Code(401, "The token was issued by another issuer"),
    "wrong_audience": Code(401, "The token is meant for another audience"),
    "missing_claim": Code(401, "The token lacks a required claim"),
    "invalid_agent_key": Code(401, "The agent key is not valid"),
    "reauthorization_required": Code(401, "The grant needs to be authorized again"),
    # 404 / 409 / 410: which grant
    "grant_not_found": Code(404, "Grant not found"),
    "provider_not_found": Code(404, "Provider not found"),
    "ambiguous_grant": Code(409, "Several grants match; name one"),
    "grant_revoked": Code(410, "The grant was revoked"),
    "grant_expired": Code(410, "The grant has expired"),
    # 5xx: the sidecar or the upstream failed
    "credential_unavailable": Code(500, "The credential could not be opened"),
    "internal_error": Code(500, "Internal error in the sidecar"),
    "upstream_error": Code(502, "The upstream could not be reached"),
    "upstream_timeout": Code(504, "The upstream did not answer in time"),
    "audit_unavailable": Code(503, "The audit buffer is full"),
    "refresh_unavailable": Code(503, "The expired credential could not be refreshed yet"),
    "overloaded": Code(503, "The sidecar is at its concurrency limit"),
    "not_ready": Code(503, "The sidecar is not ready"),
    "jwks_unavailable": Code(503, "The App's identity provider keys could not be fetched"),
}


class Refusal(Exception):
    """Raised anywhere in the pipeline to answer the caller with one of :data:`CODES`.

    ``str()`` is the detail, which is safe to log: it never includes a secret.
    """

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        retry_after: int | None = None,
        reason: str | None = None,
    ) -> None:
        if code not in CODES:
            raise ValueError(f"unknown sidecar error code {code!r}")
        super().__init__(detail)
        self.code = code
        self.status = CODES[code].status
        self.detail = detail
        self.retry_after = retry_after
        self.reason = reason
        """For audit, after the code (a policy decision's reason); ``None``: the code alone."""


def response(refusal: Refusal, extra_headers: dict[str, str] | None = None) -> web.Response:
    """Build the problem+json answer for ``refusal``."""
    body = protocol.problem(refusal.status, refusal.code, CODES[refusal.code].title, refusal.detail)
    headers = {ERROR_HEADER: refusal.code}
    if refusal.retry_after is not None:
        headers["Retry-After"] = str(refusal.retry_after)
    if extra_headers:
        headers.update(extra_headers)
    return web.Response(
        status=refusal.status,
        body=json.dumps(body).encode(),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )
