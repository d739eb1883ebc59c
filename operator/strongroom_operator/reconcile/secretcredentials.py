"""A Grant's credential from a plain Secret (``spec.credential.secretRef``), read through the
context's :data:`secretrefs.SecretReader` (the API server under kopf, folder documents in dev
mode).

With ``key``, that one Secret key is the credential's single field (``token``, or the
Provider's one ``secret.fields`` entry, or ``access_token`` for OAuth2); without it, each
Secret key named like a credential field supplies that field. The source digest that keeps
reconcile idempotent is keyed with the App's data key: an unkeyed hash of a plaintext would let
anyone who reads the record guess a short secret offline.
"""

from __future__ import annotations

import json

from strongroom_core.resources import models
from strongroom_core.sealing import providersecrets
from strongroom_operator.reconcile import context, outcomes, secretrefs

OAUTH2_FIELDS = ("access_token", "refresh_token", "token_type", "expires_at", "scope")


class SecretCredentialProblem(Exception):
    def __init__(self, outcome: outcomes.Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


async def read(
    ctx: context.ReconcileContext, grant: models.Grant, provider: models.Provider
) -> dict[str, str] | None:
    """The credential fields, or ``None`` when the Secret does not exist (any more)."""
    assert grant.credential is not None
    assert grant.credential.secret_ref is not None
    ref = grant.credential.secret_ref
    namespace = grant.meta.namespace
    if ctx.secrets is None:
        raise SecretCredentialProblem(
            outcomes.pending(
                "SecretRefNotSupportedHere",
                "spec.credential.secretRef: no Secret source here; use "
                "spec.credential.sealedValue from `strongroom seal`",
            )
        )
    try:
        data = await ctx.secrets(namespace, ref.name)
    except secretrefs.SecretReadError as e:
        raise SecretCredentialProblem(
            outcomes.pending("SecretUnreadable", f"spec.credential.secretRef: {e}; will retry")
        ) from None
    if data is None:
        return None
    fields: tuple[str, ...]
    required: tuple[str, ...]
    if provider.oauth2 is not None:
        fields, required = OAUTH2_FIELDS, ("access_token",)
    else:
        fields = provider.secret.fields if provider.secret else ("token",)
        required = fields
    if ref.key is not None:
        value = data.get(ref.key)
        if not value:
            raise _missing(ref.name, namespace, f'key "{ref.key}"', "spec.credential.secretRef.key")
        return {fields[0]: value}
    credential = {field: data[field] for field in fields if data.get(field)}
    absent = [field for field in required if field not in credential]
    if absent:
        raise _missing(
            ref.name, namespace, "keys " + ", ".join(f'"{a}"' for a in absent), "spec.credential"
        )
    return credential


async def digest(
    ctx: context.ReconcileContext, grant: models.Grant, credential: dict[str, str]
) -> str:
    keyring = await ctx.key_service.ensure_app_keys(grant.meta.namespace, grant.app_ref)
    canonical = json.dumps(credential, sort_keys=True, separators=(",", ":"))
    return "secretRef:" + providersecrets.secret_digest(keyring.active, canonical)


def _missing(name: str, namespace: str, what: str, path: str) -> SecretCredentialProblem:
    return SecretCredentialProblem(
        outcomes.pending(
            "CredentialMissingField",
            f'{path}: Secret "{name}" in namespace "{namespace}" has no (non-empty) {what}; '
            "add it to the Secret",
        )
    )


def missing_secret(grant: models.Grant) -> outcomes.Outcome:
    assert grant.credential is not None
    assert grant.credential.secret_ref is not None
    name = grant.credential.secret_ref.name
    return outcomes.pending(
        "SecretNotFound",
        f'spec.credential.secretRef: Secret "{name}" not found in namespace '
        f'"{grant.meta.namespace}"; create it, or better seal the credential with '
        "`strongroom seal` into spec.credential.sealedValue",
    )
