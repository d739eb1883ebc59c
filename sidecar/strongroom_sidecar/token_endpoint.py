"""One call to a provider's token endpoint: the ``refresh_token`` grant (RFC 6749 section 6)
or the ``client_credentials`` grant (section 4.4) for Grants with
``spec.credential.clientCredentials``.

Client authentication follows the Provider's ``clientAuthMethod``: ``client_secret_basic``
(HTTP Basic with form-encoded id and secret, section 2.3.1), ``client_secret_post`` (both in the
body) or ``none`` (``client_id`` only). The answer may be JSON or form-encoded and is normalised
with the Provider's token-response mapping (``strongroom_core.tokens``): nested tokens, an
absolute ``expires_at``, no ``expires_in`` (no expiry), no new refresh token (the old one stays).

What can go wrong is sorted into three errors, because each leads somewhere else:
:class:`InvalidGrant` (the grant is dead unless another pod already refreshed it),
:class:`Transient` (5xx, 429, timeouts, connection errors: back off and try again) and
:class:`Rejected` (any other refusal, e.g. ``invalid_client``: also retried with backoff, since
an admin fixes it outside the sidecar). Its subclass :class:`ClientRejected` is the provider
refusing the client itself (``invalid_client``, ``unauthorized_client``): for the client
credentials grant that is final, since no other credential exists to fall back on. No message
carries a token, the client secret or the provider's free-text ``error_description`` (which
could quote either).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp

from strongroom_core import policy, targets, tokens

MAX_ANSWER_BYTES = 256 * 1024


class TokenEndpointError(Exception):
    """Base class; ``str()`` is safe to log and to show to callers."""


class InvalidGrant(TokenEndpointError):
    """The provider answered ``error=invalid_grant`` (with HTTP 400, 401 or even 200)."""


class Transient(TokenEndpointError):
    """The provider could not answer now: 5xx, 429, a timeout or a connection error."""


class Rejected(TokenEndpointError):
    """The provider refused for another reason (``invalid_client``, a malformed answer)."""


class ClientRejected(Rejected):
    """The provider refused the client: ``invalid_client`` or ``unauthorized_client``."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client"})


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A Provider's refresh settings from its compiled policy."""

    provider: str
    token_url: str
    client_id: str
    auth_method: str
    mapping: dict[str, str]
    scope_separator: str
    margin_seconds: float
    sealed_client_secret: str | None

    @property
    def needs_secret(self) -> bool:
        return self.auth_method != "none"

    @classmethod
    def from_policy(cls, provider: str, wire: policy.OAuth2Wire) -> Endpoint:
        return cls(
            provider=provider,
            token_url=wire["tokenURL"],
            client_id=wire["clientId"],
            auth_method=wire.get("clientAuthMethod") or "client_secret_basic",
            mapping=dict(wire.get("tokenResponse") or {}),
            scope_separator=wire.get("scopeSeparator", " ") or " ",
            margin_seconds=float(wire.get("refreshMarginSeconds", 300)),
            sealed_client_secret=wire.get("clientSecretSealed"),
        )


def check_url(endpoint: Endpoint, allow_loopback: bool) -> None:
    """The token endpoint gets the refresh token and the client secret: HTTPS only (plain HTTP
    to loopback only where dev mode or a test allows it), never an IP literal or userinfo."""
    try:
        targets.check_target(
            endpoint.token_url,
            targets.AllowedHosts.compile([host_of(endpoint.token_url)]),
            allow_loopback=allow_loopback,
        )
    except targets.TargetRefused as e:
        raise Rejected(
            f"provider {endpoint.provider!r}: oauth2.tokenURL refused ({e.code}: {e.detail})"
        ) from None
    except ValueError as e:
        raise Rejected(f"provider {endpoint.provider!r}: oauth2.tokenURL: {e}") from None


def host_of(url: str) -> str:
    authority = url.split("://", 1)[-1].split("/", 1)[0].split("@")[-1]
    return authority.lower()


async def refresh(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    *,
    refresh_token: str,
    client_secret: str | None,
    scopes: tuple[str, ...],
    seconds: float,
) -> dict[str, str]:
    """Refresh once; the normalised credential (``access_token``, ``refresh_token``, ...)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await _token_call(
        session,
        endpoint,
        form,
        client_secret,
        scopes,
        seconds,
        previous_refresh_token=refresh_token,
    )


async def client_credentials(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    *,
    client_secret: str | None,
    scopes: tuple[str, ...],
    seconds: float,
) -> dict[str, str]:
    """Obtain a token with the client credentials grant; the normalised credential, carrying
    the ``grant_type`` marker so the next expiry obtains one the same way."""
    form = {"grant_type": tokens.CLIENT_CREDENTIALS}
    credential = await _token_call(session, endpoint, form, client_secret, scopes, seconds)
    credential[tokens.GRANT_TYPE_FIELD] = tokens.CLIENT_CREDENTIALS
    return credential


async def _token_call(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    form: dict[str, str],
    client_secret: str | None,
    scopes: tuple[str, ...],
    seconds: float,
    *,
    previous_refresh_token: str | None = None,
) -> dict[str, str]:
    if scopes:
        form["scope"] = endpoint.scope_separator.join(scopes)
    headers = {"Accept": "application/json"}
    if endpoint.auth_method == "client_secret_basic":
        pair = f"{quote(endpoint.client_id, safe='')}:{quote(client_secret or '', safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    elif endpoint.auth_method == "client_secret_post":
        form["client_id"] = endpoint.client_id
        form["client_secret"] = client_secret or ""
    else:
        form["client_id"] = endpoint.client_id
    sent_at = time.time()
    where = f"provider {endpoint.provider!r} token endpoint"
    try:
        async with session.post(
            endpoint.token_url,
            data=form,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=seconds),
        ) as response:
            status = response.status
            content_type = response.headers.get("Content-Type", "")
            body = await response.content.read(MAX_ANSWER_BYTES + 1)
    except TimeoutError:
        raise Transient(f"{where}: no answer within {seconds:g}s") from None
    except (aiohttp.ClientError, OSError) as e:
        raise Transient(f"{where}: {type(e).__name__}") from None
    if status >= 500 or status == 429:
        raise Transient(f"{where}: HTTP {status}")
    if len(body) > MAX_ANSWER_BYTES:
        raise Rejected(f"{where}: answer larger than {MAX_ANSWER_BYTES} bytes")
    try:
        document = tokens.parse_answer(body, content_type)
    except tokens.TokenResponseError as e:
        kind = Rejected if status < 300 else _by_status(status)
        raise kind(f"{where}: HTTP {status}; {e}") from None
    error = tokens.oauth_error(document)
    if error == "invalid_grant":
        raise InvalidGrant(f"{where}: invalid_grant (HTTP {status})")
    if error in CLIENT_ERRORS:
        raise ClientRejected(f"{where}: {error} (HTTP {status})", error)
    if error is not None or status >= 300:
        code = error if error is not None and len(error) <= 64 else "no error code"
        raise Rejected(f"{where}: HTTP {status} {code}")
    try:
        return tokens.normalize(
            document,
            endpoint.mapping,
            received_at=sent_at,
            previous_refresh_token=previous_refresh_token,
        )
    except tokens.TokenResponseError as e:
        raise Rejected(f"{where}: {e}; check the Provider's spec.oauth2.tokenResponse") from None


def _by_status(status: int) -> type[TokenEndpointError]:
    return Transient if status >= 500 or status == 429 else Rejected
