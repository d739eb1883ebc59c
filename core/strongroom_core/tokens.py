"""Normalising OAuth2 token-endpoint answers into the credential Strongroom seals.

Providers answer differently: nested tokens (Slack's ``authed_user.access_token``), no
``expires_in``, an absolute ``expires_at``, no new refresh token on refresh. A Provider's
token-response mapping says where each field is; this module applies it. The result is the
OAuth2 credential: a flat dict of strings (``access_token``, ``refresh_token``, ``token_type``,
``expires_at`` as unix seconds, ``scope``), which is what gets sealed and injected.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

DEFAULT_MAPPING: dict[str, str] = {
    "accessToken": "access_token",
    "refreshToken": "refresh_token",
    "expiresIn": "expires_in",
    "expiresAt": "",
    "tokenType": "token_type",
    "scope": "scope",
}


GRANT_TYPE_FIELD = "grant_type"
"""A sealed OAuth2 credential field saying how the sidecar obtains the next access token when
there is no refresh token: :data:`CLIENT_CREDENTIALS` (``spec.credential.clientCredentials``).
Absent for credentials that came from an authorization (refresh token or nothing)."""
CLIENT_CREDENTIALS = "client_credentials"


def obtained_by_client_credentials(credential: Mapping[str, str]) -> bool:
    """Whether the sidecar gets this credential's next token with the client credentials grant
    (the marker is set and there is no refresh token to use instead)."""
    return credential.get(GRANT_TYPE_FIELD) == CLIENT_CREDENTIALS and not credential.get(
        "refresh_token"
    )


class TokenResponseError(ValueError):
    """The token response lacks a field or has one of the wrong type. The message names the
    field path, never a value."""


def lookup(document: Mapping[str, Any], dotted_path: str) -> Any:
    """Follow ``a.b.c`` through nested objects; ``None`` when any step is missing."""
    current: Any = document
    for part in dotted_path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def normalize(
    response: Mapping[str, Any],
    mapping: Mapping[str, str] | None = None,
    *,
    received_at: float | None = None,
    previous_refresh_token: str | None = None,
) -> dict[str, str]:
    """Map a token response to the sealed OAuth2 credential.

    ``received_at`` anchors a relative ``expires_in`` (defaults to now). A response without a
    refresh token keeps ``previous_refresh_token`` (providers that do not rotate).
    """
    paths = {**DEFAULT_MAPPING, **(mapping or {})}
    received = time.time() if received_at is None else received_at

    access = lookup(response, paths["accessToken"])
    if not isinstance(access, str) or not access:
        raise TokenResponseError(f"token response: {paths['accessToken']}: required string")
    credential: dict[str, str] = {"access_token": access}

    token_type = lookup(response, paths["tokenType"]) if paths["tokenType"] else None
    credential["token_type"] = (
        token_type if isinstance(token_type, str) and token_type else "Bearer"
    )

    refresh = lookup(response, paths["refreshToken"]) if paths["refreshToken"] else None
    if refresh is not None and not isinstance(refresh, str):
        raise TokenResponseError(f"token response: {paths['refreshToken']}: expected a string")
    if refresh:
        credential["refresh_token"] = refresh
    elif previous_refresh_token:
        credential["refresh_token"] = previous_refresh_token

    expires_at = _expiry(response, paths, received)
    if expires_at is not None:
        credential["expires_at"] = repr(expires_at)

    scope = lookup(response, paths["scope"]) if paths["scope"] else None
    if isinstance(scope, list):
        scope = " ".join(str(s) for s in scope)
    if isinstance(scope, str) and scope:
        credential["scope"] = scope
    return credential


def expires_at_of(credential: Mapping[str, str]) -> float | None:
    """The access token's expiry from a normalised credential, or ``None`` if it has none."""
    raw = credential.get("expires_at")
    return None if raw is None else float(raw)


def _expiry(response: Mapping[str, Any], paths: Mapping[str, str], received: float) -> float | None:
    if paths["expiresAt"]:
        absolute = lookup(response, paths["expiresAt"])
        if absolute is not None:
            return _number(absolute, paths["expiresAt"])
    if paths["expiresIn"]:
        relative = lookup(response, paths["expiresIn"])
        if relative is not None:
            return received + _number(relative, paths["expiresIn"])
    return None


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool):
        raise TokenResponseError(f"token response: {path}: expected a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TokenResponseError(f"token response: {path}: expected a number") from None


# --- the token endpoint's raw answer ------------------------------------------------------------


def parse_answer(body: bytes, content_type: str = "") -> dict[str, Any]:
    """A token endpoint's answer as a document: JSON (RFC 6749) or form-encoded (what some
    providers still send, GitHub's legacy default among them). The error names the format,
    never a value."""
    kind = content_type.split(";", 1)[0].strip().lower()
    text = body.decode("utf-8", errors="replace").strip()
    if kind.endswith("json") or text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            raise TokenResponseError("token response: not valid JSON") from None
        if not isinstance(document, dict):
            raise TokenResponseError("token response: expected a JSON object")
        return document
    pairs = parse_qsl(text, keep_blank_values=True)
    if not pairs or not all(name for name, _ in pairs):
        raise TokenResponseError(
            f"token response: neither a JSON object nor form-encoded (content type {kind!r})"
        )
    return dict(pairs)


def oauth_error(document: Mapping[str, Any]) -> str | None:
    """The OAuth ``error`` code of an answer (``invalid_grant``, ...), or ``None``."""
    error = document.get("error")
    return error if isinstance(error, str) and error else None


# --- a raw token response sealed client-side (`strongroom grant import`) ------------------------

TOKEN_RESPONSE_FORMAT = "oauth2-token-response"  # noqa: S105 (a format tag, not a secret)


def wrap_token_response(
    response: Mapping[str, Any], received_at: float | None = None
) -> dict[str, str]:
    """A raw token response as a credential of string fields, for client-side sealing. The
    control plane unwraps and normalises it with the Provider's mapping (:func:`unwrap`)."""
    return {
        "format": TOKEN_RESPONSE_FORMAT,
        "received_at": repr(time.time() if received_at is None else received_at),
        "response": json.dumps(dict(response), sort_keys=True),
    }


def is_wrapped_token_response(credential: Mapping[str, str]) -> bool:
    return credential.get("format") == TOKEN_RESPONSE_FORMAT


def unwrap(credential: Mapping[str, str], mapping: Mapping[str, str] | None) -> dict[str, str]:
    """Normalise a wrapped token response (see :func:`wrap_token_response`)."""
    try:
        response = json.loads(credential["response"])
        received_at = float(credential["received_at"])
    except (KeyError, ValueError):
        raise TokenResponseError("sealed token response: malformed wrapper") from None
    if not isinstance(response, dict):
        raise TokenResponseError("sealed token response: expected a JSON object")
    return normalize(response, mapping, received_at=received_at)
