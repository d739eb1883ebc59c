"""Grant: its credential sealed into its record (from a client-side sealed value, or from a
plain Secret with a Warning and optional deletion of the plaintext), its status, and on
deletion revocation at the provider and removal of the record (the finalizer)."""

from __future__ import annotations

import kopf

from strongroom_core.resources import models
from strongroom_core.storage import records
from strongroom_kube import client
from strongroom_operator.kopfhandlers import (
    conditions,
    indexes,
    kubeio,
    preflight,
    reporting,
    revocation,
    runtime,
)
from strongroom_operator.reconcile import grants, outcomes

DELETE_PLAINTEXT = "strongroom.dev/delete-plaintext-secret"
"""Grant annotation: ``"true"`` deletes the Secret of ``spec.credential.secretRef`` once its
credential is sealed into the record."""

SETTLED = frozenset({"CredentialMissing"})
"""Pending reasons only a change of the Grant itself can end (no retry)."""


async def reconcile(
    rt: runtime.Runtime, view: indexes.View, body: kopf.Body, patch: kopf.Patch, retry: int
) -> None:
    settings = rt.settings
    grant = await preflight.checked(
        rt,
        view,
        body,
        patch,
        retry,
        models.Grant,
        report=lambda outcome: _report(rt, body, patch, outcome, None),
    )
    if grant is None:
        return
    namespace = grant.meta.namespace
    provider = view.provider(namespace, grant.app_ref, grant.provider_ref)
    # Policy before record: a sidecar that sees the record already knows the grant.
    await rt.publisher.refresh(view, namespace, grant.app_ref)
    outcome = await grants.reconcile_grant(rt.ctx, grant, provider)
    record = await rt.storage.get_grant(namespace, grant.meta.name)
    if grant.credential is not None and grant.credential.secret_ref is not None:
        await _plaintext_secret(rt, body, grant, record)
    _report(rt, body, patch, outcome, record)
    if outcome.state == "Pending" and outcome.reason not in SETTLED:
        # A referenced Secret may appear or be fixed later (nothing watches Secrets), a write
        # conflict may clear: look again later.
        delay = reporting.retry_delay(retry, settings.retry_delay, settings.max_retry_delay)
        raise kopf.TemporaryError(outcome.message, delay=delay)


def _report(
    rt: runtime.Runtime,
    body: kopf.Body,
    patch: kopf.Patch,
    outcome: outcomes.Outcome,
    record: records.GrantRecord | None,
) -> None:
    expires = record.token_expires_at if record is not None else None
    extra = {"tokenExpiresAt": conditions.rfc3339(expires) if expires else None}
    reporting.report(body, patch, outcome, rt.clock(), with_state=True, extra=extra)


async def _plaintext_secret(
    rt: runtime.Runtime, body: kopf.Body, grant: models.Grant, record: records.GrantRecord | None
) -> None:
    assert grant.credential is not None
    assert grant.credential.secret_ref is not None
    name = grant.credential.secret_ref.name
    sealed = record is not None and record.source_digest.startswith("secretRef:")
    wanted = grant.meta.annotations.get(DELETE_PLAINTEXT, "").lower() == "true"
    if sealed and wanted:
        try:
            deleted = await kubeio.delete_secret(rt.kube, grant.meta.namespace, name)
        except client.ApiError as e:
            if e.status != 403:
                raise
            # The chart grants delete on Secrets only with operator.deletePlaintextSecrets:
            # retrying cannot help, so say once what to do instead.
            kopf.event(
                body,
                type="Warning",
                reason="PlaintextSecretNotDeleted",
                message=(
                    f'Secret "{name}" still holds the credential in plaintext: the operator may '
                    "not delete Secrets (403). Delete it yourself (its credential is sealed in "
                    "the grant record), or install the chart with "
                    "operator.deletePlaintextSecrets=true, or remove the annotation "
                    f"{DELETE_PLAINTEXT}"
                ),
            )
            return
        if deleted:
            kopf.event(
                body,
                type="Normal",
                reason="PlaintextSecretDeleted",
                message=f'Secret "{name}" deleted: its credential is sealed in the grant record',
            )
        return
    if await _exists(rt, grant.meta.namespace, name):
        kopf.event(
            body,
            type="Warning",
            reason="PlaintextSecret",
            message=(
                f'spec.credential.secretRef: Secret "{name}" holds the credential in plaintext '
                "in this namespace; seal it with `strongroom seal` into "
                f"spec.credential.sealedValue, or annotate the Grant {DELETE_PLAINTEXT}: "
                '"true" to delete the Secret once sealed'
            ),
        )


async def _exists(rt: runtime.Runtime, namespace: str, name: str) -> bool:
    return await kubeio.KubeSecrets(rt.kube)(namespace, name) is not None


async def finalize(rt: runtime.Runtime, view: indexes.View, body: kopf.Body, retry: int) -> None:
    """Revoke at the provider (bounded tries; then delete anyway, with a Warning), delete the
    sealed record, re-publish the App's policy without the grant."""
    metadata = body.get("metadata", {})
    namespace, name = metadata.get("namespace", ""), metadata.get("name", "")
    record = await rt.storage.get_grant(namespace, name)
    if record is not None and record.uid == metadata.get("uid", record.uid):
        provider = view.provider(namespace, record.app, record.provider)
        if provider is not None and record.state != "Revoked":
            await _revoke(rt, body, provider, record, retry)
        await grants.delete_grant_record(rt.ctx, namespace, name)
    app_ref = body.get("spec", {}).get("appRef")
    if isinstance(app_ref, str):
        await rt.publisher.refresh(view, namespace, app_ref)


async def _revoke(
    rt: runtime.Runtime,
    body: kopf.Body,
    provider: models.Provider,
    record: records.GrantRecord,
    retry: int,
) -> None:
    settings = rt.settings
    try:
        revoked = await revocation.revoke(
            rt.ctx, provider, record, timeout=settings.revocation_timeout
        )
    except revocation.RevocationFailed as failure:
        if retry + 1 < settings.revocation_attempts:
            kopf.event(
                body,
                type="Warning",
                reason="RevocationRetrying",
                message=f"{failure}; try {retry + 1} of {settings.revocation_attempts}",
            )
            raise kopf.TemporaryError(str(failure), delay=settings.revocation_backoff) from None
        kopf.event(
            body,
            type="Warning",
            reason="RevocationFailed",
            message=(
                f"{failure}; gave up after {settings.revocation_attempts} tries and deleted the "
                "grant anyway: revoke its tokens at the provider by hand"
            ),
        )
        return
    if revoked:
        kopf.event(
            body,
            type="Normal",
            reason="Revoked",
            message=f'tokens revoked at Provider "{provider.meta.name}"',
        )
