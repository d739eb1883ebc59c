"""Errors raised by identity verification and grant resolution.

::

    IdentityError(code, detail)     one class, a stable ``code`` from :data:`CODES`
    JwksError                       a JWKS document (or one of its keys) is unusable

Codes are the contract: the sidecar answers with them and audit records them, so they never
change meaning. :data:`STATUS` says which HTTP status each code deserves.

A ``detail`` never includes the token, its signature, or a claim value that could be a secret; it
may name claims, headers, key ids, the expected issuer and audiences, and grant names.
"""

from __future__ import annotations

from typing import Literal, get_args

TokenCode = Literal[
    "malformed_token",
    "algorithm_not_allowed",
    "unknown_key",
    "bad_signature",
    "token_expired",
    "token_not_yet_valid",
    "wrong_issuer",
    "wrong_audience",
    "missing_claim",
]
"""Codes about the token itself."""

Code = Literal[
    TokenCode,
    # the identity provider could not be asked
    "jwks_unavailable",
    # which grant the principal may use
    "grant_not_found",
    "ambiguous_grant",
    "principal_token_required",
    "principal_mismatch",
]

CODES: frozenset[str] = frozenset(get_args(Code))

TOKEN_CODES: frozenset[str] = frozenset(get_args(TokenCode))
"""Codes that mean "the end user's token is not acceptable": the caller should get a new one."""

STATUS: dict[str, int] = {
    **dict.fromkeys(TOKEN_CODES, 401),
    "jwks_unavailable": 503,
    "grant_not_found": 404,
    "ambiguous_grant": 409,
    "principal_token_required": 401,
    "principal_mismatch": 403,
}
"""The HTTP status a sidecar answers each code with."""


class IdentityError(Exception):
    """Verification or resolution refused. ``str()`` is the detail, which is safe to log."""

    def __init__(self, code: Code, detail: str) -> None:
        super().__init__(detail)
        self.code: Code = code
        self.detail = detail

    @property
    def status(self) -> int:
        return STATUS[self.code]

    def __repr__(self) -> str:
        return f"IdentityError({self.code!r}, {self.detail!r})"


class JwksError(ValueError):
    """A JWKS document is unusable. The message names the key index and field (``keys[2].crv``)
    and never quotes key material."""
