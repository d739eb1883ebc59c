"""Grant reconcile: the Grant's credential sealed into its record under the App's data key.

A client-side sealed value (``spec.credential.sealedValue``) is opened with the control plane's
sealing key, checked against the Provider (fields of a managed secret, the token-response mapping
of an OAuth2 provider) and re-sealed with the full binding (namespace, name, uid, App, provider,
principal). ``source_digest`` makes this idempotent: an unchanged spec never replaces a credential
that was refreshed since. A ``clientCredentials`` Grant starts from a marker credential and the
sidecar obtains its tokens (``clientcredentials``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import uuid

from strongroom_core import tokens
from strongroom_core.resources import models
from strongroom_core.sealing import bindings, credentials, publickey
from strongroom_core.sealing import errors as sealing_errors
from strongroom_core.storage import errors as storage_errors
from strongroom_core.storage import records
from strongroom_operator.reconcile import (
    clientcredentials,
    context,
    outcomes,
    policies,
    secretcredentials,
)

_CAS_ATTEMPTS = 5
_DEV_UID_NAMESPACE = uuid.UUID("6f1d2c3e-8a54-4c0e-9d55-5b7a4c1f2e90")


class GrantProblem(Exception):
    """The Grant cannot be made Ready as it is; carries the outcome for its status."""

    def __init__(self, outcome: outcomes.Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


def grant_uid(grant: models.Grant) -> str:
    """The API server's uid; for documents from a folder (dev mode) a stable one derived from
    namespace and name, so a restart keeps the binding of sealed records."""
    return grant.meta.uid or str(uuid.uuid5(_DEV_UID_NAMESPACE, "/".join(grant.key)))


async def reconcile_grant(
    ctx: context.ReconcileContext, grant: models.Grant, provider: models.Provider | None
) -> outcomes.Outcome:
    namespace, name = grant.key
    if provider is None:
        return outcomes.invalid(
            "ProviderNotFound",
            f'spec.providerRef: Provider "{grant.provider_ref}" not found in namespace '
            f'"{namespace}"',
        )
    for _ in range(_CAS_ATTEMPTS):
        existing = await ctx.storage.get_grant(namespace, name)
        if existing is not None and existing.uid != grant_uid(grant):
            # Same name, another object (deleted and created again): the old record is not its.
            await ctx.storage.delete_grant(namespace, name, existing.version)
            existing = None
        try:
            desired = await _desired_record(ctx, grant, provider, existing)
        except GrantProblem as problem:
            return problem.outcome
        if desired is None:
            return outcomes.pending(
                "CredentialMissing",
                "spec.credential: none yet; seal one with `strongroom seal` (managed secrets) "
                "or `strongroom grant import` (OAuth2 token responses)",
            )
        try:
            stored = await _write(ctx, desired, existing)
        except (storage_errors.ConflictError, storage_errors.AlreadyExistsError):
            continue  # someone (a refresh) wrote meanwhile: read again and re-apply
        return outcomes.of_record(stored)
    return outcomes.pending("Conflict", "the grant record kept changing; will retry")


async def delete_grant_record(ctx: context.ReconcileContext, namespace: str, name: str) -> None:
    with contextlib.suppress(storage_errors.NotFoundError):
        await ctx.storage.delete_grant(namespace, name)


async def _desired_record(
    ctx: context.ReconcileContext,
    grant: models.Grant,
    provider: models.Provider,
    existing: records.GrantRecord | None,
) -> records.GrantRecord | None:
    sealed_value = grant.credential.sealed_value if grant.credential else None
    secret_ref = grant.credential.secret_ref if grant.credential else None
    by_client = grant.credential is not None and grant.credential.client_credentials
    digest = hashlib.sha256(sealed_value.encode()).hexdigest() if sealed_value else ""
    plain = await _from_secret_ref(ctx, grant, provider, existing) if secret_ref else None
    if by_client:
        try:
            digest = await clientcredentials.digest(ctx, grant, provider)
        except clientcredentials.ClientCredentialsProblem as problem:
            raise GrantProblem(problem.outcome) from None
    if by_client and (existing is None or existing.source_digest != digest):
        # No token yet: the sidecar obtains one on first use (token_expires_at long past).
        record = await _record_from_credential(
            ctx, grant, dict(clientcredentials.MARKER), clientcredentials.NOT_YET, digest
        )
        if existing is not None:
            record = dataclasses.replace(
                record, version=existing.version, generation=existing.generation + 1
            )
    elif plain is not None:
        record = await _record_from_credential(ctx, grant, plain[0], plain[1], plain[2])
        if existing is not None:
            record = dataclasses.replace(
                record, version=existing.version, generation=existing.generation + 1
            )
    elif sealed_value and (existing is None or existing.source_digest != digest):
        record = await _record_from_sealed_value(ctx, grant, provider, sealed_value, digest)
        if existing is not None:
            record = dataclasses.replace(
                record, version=existing.version, generation=existing.generation + 1
            )
    elif existing is not None:
        record = existing
    else:
        return None
    state = record.state
    if grant.expires_at is not None and ctx.clock() >= grant.expires_at:
        state = "Expired"
    elif state == "Expired":
        state = "Ready"  # the expiry was lifted or extended
    return dataclasses.replace(
        record, scopes=grant.scopes, grant_expires_at=grant.expires_at, state=state
    )


async def _record_from_sealed_value(
    ctx: context.ReconcileContext,
    grant: models.Grant,
    provider: models.Provider,
    sealed_value: str,
    digest: str,
) -> records.GrantRecord:
    namespace, name = grant.key
    binding = bindings.ClientSealBinding(namespace=namespace, grant=name, provider=provider.key[1])
    try:
        opened = credentials.decode_credential(
            publickey.open_sealed(ctx.sealing_key, sealed_value, binding),
            "spec.credential.sealedValue",
        )
    except sealing_errors.SealingError as e:
        raise GrantProblem(
            outcomes.invalid(
                "CredentialUnreadable",
                f"spec.credential.sealedValue: cannot be opened ({type(e).__name__}); seal it "
                f"again for namespace {namespace}, grant {name}, provider {provider.key[1]} "
                "with this control plane's key",
            )
        ) from None
    credential, token_expires_at = _checked_credential(provider, opened)
    return await _record_from_credential(ctx, grant, credential, token_expires_at, digest)


async def _from_secret_ref(
    ctx: context.ReconcileContext,
    grant: models.Grant,
    provider: models.Provider,
    existing: records.GrantRecord | None,
) -> tuple[dict[str, str], float | None, str] | None:
    """(credential, token expiry, source digest) when the referenced Secret holds a credential
    the record does not have yet; ``None`` when the record is current, or the Secret is gone
    (deleted after sealing, as the operator may do) and the record stays."""
    try:
        credential = await secretcredentials.read(ctx, grant, provider)
    except secretcredentials.SecretCredentialProblem as problem:
        raise GrantProblem(problem.outcome) from None
    if credential is None:
        if existing is None:
            raise GrantProblem(secretcredentials.missing_secret(grant))
        return None
    digest = await secretcredentials.digest(ctx, grant, credential)
    if existing is not None and existing.source_digest == digest:
        return None
    try:
        expires_at = float(credential["expires_at"]) if credential.get("expires_at") else None
    except ValueError:
        raise GrantProblem(
            outcomes.invalid(
                "CredentialInvalid",
                'spec.credential.secretRef: the Secret\'s "expires_at" must be unix seconds',
            )
        ) from None
    return credential, expires_at, digest


async def _record_from_credential(
    ctx: context.ReconcileContext,
    grant: models.Grant,
    credential: dict[str, str],
    token_expires_at: float | None,
    digest: str,
) -> records.GrantRecord:
    namespace, name = grant.key
    keyring = await ctx.key_service.ensure_app_keys(namespace, grant.app_ref)
    uid = grant_uid(grant)
    record = records.GrantRecord(
        namespace=namespace,
        name=name,
        uid=uid,
        app=grant.app_ref,
        provider=grant.provider_ref,
        principal_kind=grant.principal.kind,
        principal_id=grant.principal.id,
        sealed="",
        token_expires_at=token_expires_at,
        source_digest=digest,
    )
    return dataclasses.replace(
        record, sealed=credentials.seal_for_record(keyring.active, record, credential)
    )


def _checked_credential(
    provider: models.Provider, opened: dict[str, str]
) -> tuple[dict[str, str], float | None]:
    if tokens.is_wrapped_token_response(opened):
        if provider.oauth2 is None:
            raise GrantProblem(
                outcomes.invalid(
                    "CredentialMismatch",
                    "spec.credential.sealedValue: holds an OAuth2 token response but Provider "
                    f'"{provider.key[1]}" is of type {provider.type}',
                )
            )
        try:
            paths = policies.token_response_paths(provider.oauth2.token_response)
            credential = tokens.unwrap(opened, paths)
        except tokens.TokenResponseError as e:
            raise GrantProblem(outcomes.invalid("TokenResponseInvalid", str(e))) from None
        return credential, tokens.expires_at_of(credential)
    required = provider.secret.fields if provider.secret else ("access_token",)
    missing = [field for field in required if not opened.get(field)]
    if missing:
        raise GrantProblem(
            outcomes.invalid(
                "CredentialMissingField",
                f"spec.credential.sealedValue: missing field {missing[0]!r}, required by "
                f'Provider "{provider.key[1]}"'
                + (" spec.secret.fields" if provider.secret else " (OAuth2 credential)"),
            )
        )
    expires_at = opened.get("expires_at")
    return opened, float(expires_at) if expires_at else None


async def _write(
    ctx: context.ReconcileContext,
    desired: records.GrantRecord,
    existing: records.GrantRecord | None,
) -> records.GrantRecord:
    if existing is None:
        return await ctx.storage.create_grant(desired)
    if desired == existing:
        return existing
    return await ctx.storage.replace_grant(desired, existing.version)
