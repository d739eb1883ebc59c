"""A Grant whose token the sidecar obtains itself (``spec.credential.clientCredentials``).

The operator holds no token for such a Grant: its record starts with the sealed marker
``{"grant_type": "client_credentials"}`` and ``token_expires_at = 0``, so the first call (or the
sidecar's scheduler) claims the grant and obtains a token through the usual refresh protocol,
and every later expiry does the same.

The source digest covers what the token is obtained with: the Provider's token URL, client id,
client auth method and client secret, and the Grant's scopes. A re-reconcile of unchanged
settings keeps the token the sidecar obtained; a change (a fixed client secret above all)
starts the Grant again from the marker, which is also how a Grant marked ``NeedsReauth`` for
``invalid_client`` recovers. It is keyed with the App's data key: an unkeyed hash of the client
secret would let anyone who reads the record guess a weak secret offline.
"""

from __future__ import annotations

import json

from strongroom_core import tokens
from strongroom_core.resources import models
from strongroom_core.sealing import providersecrets
from strongroom_operator.reconcile import context, outcomes, policies

DIGEST_PREFIX = "clientCredentials:"
MARKER: dict[str, str] = {tokens.GRANT_TYPE_FIELD: tokens.CLIENT_CREDENTIALS}
"""The sealed credential of a client-credentials Grant before its first token."""
NOT_YET = 0.0
"""``token_expires_at`` of the marker record: long past, so the first use obtains a token."""


class ClientCredentialsProblem(Exception):
    def __init__(self, outcome: outcomes.Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


async def digest(
    ctx: context.ReconcileContext, grant: models.Grant, provider: models.Provider
) -> str:
    """The source digest of ``grant``'s client-credentials settings (see the module doc)."""
    oauth2 = provider.oauth2
    if oauth2 is None:
        raise ClientCredentialsProblem(
            outcomes.invalid(
                "ClientCredentialsNeedOAuth2",
                f'spec.credential.clientCredentials: Provider "{provider.key[1]}" is type '
                f"{provider.type}; the client credentials grant needs an oauth2 Provider",
            )
        )
    if oauth2.client_auth_method == "none":
        raise ClientCredentialsProblem(
            outcomes.invalid(
                "ClientCredentialsNeedConfidentialClient",
                f'spec.credential.clientCredentials: Provider "{provider.key[1]}" has '
                "spec.oauth2.clientAuthMethod none; the client credentials grant needs "
                "client_secret_basic or client_secret_post and a clientSecretRef",
            )
        )
    secret = await policies.client_secret_or_none(
        ctx, grant.meta.namespace, oauth2.client_secret_ref
    )
    settings = {
        "tokenURL": oauth2.token_url,
        "clientId": oauth2.client_id,
        "clientAuthMethod": oauth2.client_auth_method,
        "clientSecret": secret or "",
        "scopes": list(grant.scopes),
    }
    keyring = await ctx.key_service.ensure_app_keys(grant.meta.namespace, grant.app_ref)
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return DIGEST_PREFIX + providersecrets.secret_digest(keyring.active, canonical)
