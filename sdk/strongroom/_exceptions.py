"""Exceptions raised by the Strongroom SDK.

The tree (catch the level you can act on)::

    StrongroomError
    ├── UsageError (also a ValueError)   an argument or STRONGROOM_URL is invalid; nothing was sent
    ├── SidecarUnavailable               the sidecar cannot take calls now; retry later
    │                                    (cannot connect; 503 not_ready, overloaded,
    │                                    jwks_unavailable: the identity provider's keys)
    └── SidecarError                     the sidecar refused or failed the call
        │                                (.code .status .title .detail .audit_id .response)
        ├── InvalidRequest               400 missing_target, invalid_target, invalid_header,
        │                                    grant_unspecified
        ├── IdentityRequired             401 principal_token_required, invalid_user_token,
        │                                    invalid_agent_key, identity_not_configured, and
        │                                    the token codes: malformed_token,
        │                                    algorithm_not_allowed, unknown_key, bad_signature,
        │                                    token_expired, token_not_yet_valid, wrong_issuer,
        │                                    wrong_audience, missing_claim (get a new token);
        │                                    501 jwt_identity_not_available (older sidecars)
        ├── ReauthorizationRequired      401 reauthorization_required (the end user must connect
        │                                    the provider again)
        ├── PolicyDenied                 403 policy_denied, host_not_allowed, insecure_scheme,
        │                                    userinfo_in_url, ip_literal_not_allowed,
        │                                    agent_suspended, principal_mismatch;
        │                                    429 rate_limited, quota_exceeded (the response's
        │                                    Retry-After header says when to try again)
        ├── GrantNotFound                404 grant_not_found, provider_not_found
        ├── AmbiguousGrant               409 ambiguous_grant (name the grant explicitly)
        ├── GrantRevoked                 410 grant_revoked, grant_expired
        ├── CredentialUnavailable        500 credential_unavailable
        ├── UpstreamError                502 upstream_error, 504 upstream_timeout
        └── AuditUnavailable             503 audit_unavailable (the call was not made: audit
                                             fails closed)

A code this SDK does not know yet raises a plain `SidecarError`, so newer sidecars keep working
with older SDKs. A third-party API's own error status (a 404 from GitHub, say) is not an
exception: it is returned as the `httpx.Response`, exactly as httpx would return it.

Errors from the network while reading a streamed body, and read/write timeouts, are httpx's own
exceptions (`httpx.TimeoutException`, `httpx.ReadError`, ...): the SDK does not hide them.

No exception message, `repr` or attribute of these classes contains the end user's token or the
agent key: the texts are built from codes and the sidecar's detail, with the call's secrets
redacted, and `.response.request` is a copy without the secret headers.
"""

from __future__ import annotations

import httpx


class StrongroomError(Exception):
    """Base of every exception the SDK raises itself."""


class UsageError(StrongroomError, ValueError):
    """An argument or the STRONGROOM_URL setting is invalid; the message names it.

    Raised before anything is sent, so retrying the same call cannot help.
    """


class _SidecarAnswer(StrongroomError):
    """What the sidecar said about a call (or that it said nothing): the attributes
    `SidecarUnavailable` and `SidecarError` share. Private: catch one of those two."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        title: str = "",
        detail: str = "",
        audit_id: str | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.title = title
        self.detail = detail
        self.audit_id = audit_id
        self.response = response


class SidecarUnavailable(_SidecarAnswer):
    """The sidecar cannot take calls right now: it is not running, starting, or overloaded.

    Worth retrying with a backoff. When the sidecar answered (`not_ready`, `overloaded`), the same
    attributes as `SidecarError` are filled; when it could not be reached at all they are `None`
    and `__cause__` is the httpx connect error.
    """


class SidecarError(_SidecarAnswer):
    """The sidecar answered the call with one of its own errors (header `Strongroom-Error`).

    `code` is the stable machine-readable code, `status` the HTTP status, `detail` the sidecar's
    explanation (truncated, secrets of the call redacted), `audit_id` the audit record of the
    refusal when there is one, `response` the sidecar's response (body already read).
    """

    code: str
    status: int

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int,
        title: str = "",
        detail: str = "",
        audit_id: str | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(
            message,
            code=code,
            status=status,
            title=title,
            detail=detail,
            audit_id=audit_id,
            response=response,
        )


class InvalidRequest(SidecarError):
    """The sidecar could not understand the call (target, a header, or no grant selected)."""


class IdentityRequired(SidecarError):
    """The call lacks a valid identity: the end user's JWT or the agent key is missing or wrong,
    or the App has no JWT identity configured."""


class ReauthorizationRequired(SidecarError):
    """The grant's refresh failed for good: the end user must authorize the provider again."""


class PolicyDenied(SidecarError):
    """Policy refused the call: the rules, the provider's allowed hosts, or a suspended agent."""


class GrantNotFound(SidecarError):
    """No such grant or provider for this App (or none this caller may use)."""


class AmbiguousGrant(SidecarError):
    """Several grants match at the same level; pass `grant=` to say which one."""


class GrantRevoked(SidecarError):
    """The grant was revoked or has expired."""


class CredentialUnavailable(SidecarError):
    """The sidecar could not obtain the credential (key release, control plane, refresh)."""


class UpstreamError(SidecarError):
    """The third-party API could not be reached or did not answer in time."""


class AuditUnavailable(SidecarError):
    """The audit buffer is full, so the sidecar refused the call rather than leave no record."""
