"""Token revocation at the provider (RFC 7009) when a Grant is deleted.

The refresh token is revoked first (providers revoke the whole grant with it), then the access
token. Client authentication follows the Provider's ``clientAuthMethod``. Nothing about the
tokens or the client secret reaches an error message: failures name the Provider, the status
code and the OAuth error code only.
"""

from __future__ import annotations

import base64
import urllib.parse

import aiohttp

from strongroom_core import tokens
from strongroom_core.resources import models
from strongroom_core.sealing import credentials
from strongroom_core.storage import records
from strongroom_operator.reconcile import context, policies


class RevocationFailed(Exception):
    """Revocation did not succeed; the message is safe for an Event."""


async def revoke(
    ctx: context.ReconcileContext,
    provider: models.Provider,
    record: records.GrantRecord,
    *,
    timeout: float,  # noqa: ASYNC109 -- one aiohttp session's total timeout
) -> int:
    """Revoke the record's tokens at ``provider.oauth2.revocation_url``; the number of tokens
    revoked (0 when the Provider has no revocation endpoint)."""
    oauth2 = provider.oauth2
    if oauth2 is None or not oauth2.revocation_url:
        return 0
    keyring = await ctx.key_service.app_keys(record.namespace, record.app)
    credential = credentials.open_grant_credential(keyring, record)
    client_secret = await _client_secret(ctx, provider)
    sent = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        for field, hint in (("refresh_token", "refresh_token"), ("access_token", "access_token")):
            token = credential.get(field)
            if not token:
                continue
            await _post(session, provider, oauth2, token, hint, client_secret)
            sent += 1
    return sent


async def _client_secret(ctx: context.ReconcileContext, provider: models.Provider) -> str | None:
    oauth2 = provider.oauth2
    if oauth2 is None or oauth2.client_auth_method == "none":
        return None
    try:
        return await policies._client_secret(  # the one resolver of clientSecretRef
            ctx, provider.meta.namespace, oauth2.client_secret_ref
        )
    except Exception as e:  # policies._Missing: its message names the Secret, never a value
        raise RevocationFailed(str(e)) from None


async def _post(
    session: aiohttp.ClientSession,
    provider: models.Provider,
    oauth2: models.OAuth2Settings,
    token: str,
    hint: str,
    client_secret: str | None,
) -> None:
    form = {"token": token, "token_type_hint": hint}
    headers = {"Accept": "application/json"}
    if oauth2.client_auth_method == "client_secret_basic" and client_secret is not None:
        pair = f"{_quote(oauth2.client_id)}:{_quote(client_secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    else:
        form["client_id"] = oauth2.client_id
        if client_secret is not None:
            form["client_secret"] = client_secret
    url = oauth2.revocation_url or ""
    what = f'Provider "{provider.meta.name}" revocation endpoint'
    try:
        async with session.post(url, data=form, headers=headers, allow_redirects=False) as response:
            body = await response.read()
            if response.status == 200:
                return
            code = _oauth_error(body, response.content_type)
    except (aiohttp.ClientError, TimeoutError) as e:
        raise RevocationFailed(f"{what} unreachable ({type(e).__name__})") from None
    raise RevocationFailed(f"{what} answered {response.status}" + (f" ({code})" if code else ""))


def _quote(value: str) -> str:
    """RFC 6749 §2.3.1: form-urlencode id and secret before Basic encoding."""
    return urllib.parse.quote_plus(value)


def _oauth_error(body: bytes, content_type: str) -> str | None:
    try:
        code = tokens.oauth_error(tokens.parse_answer(body, content_type))
    except Exception:  # an unreadable answer has no error code to report
        return None
    return "".join(c for c in code if c.isalnum() or c in "_-.")[:64] if code else None
