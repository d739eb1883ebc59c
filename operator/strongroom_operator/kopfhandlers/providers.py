"""Provider: validated, its references checked, its client secret resolved and sealed into
the App's policy (a missing Secret is named in the status with what to do)."""

from __future__ import annotations

import kopf

from strongroom_core.resources import models
from strongroom_operator.kopfhandlers import indexes, preflight, reporting, runtime
from strongroom_operator.reconcile import outcomes


async def reconcile(
    rt: runtime.Runtime, view: indexes.View, body: kopf.Body, patch: kopf.Patch, retry: int
) -> None:
    settings = rt.settings
    provider = await preflight.checked(rt, view, body, patch, retry, models.Provider)
    if provider is None:
        return
    await rt.publisher.refresh(view, provider.meta.namespace, provider.app_ref)
    outcome = rt.publisher.outcomes.get(provider.ref, outcomes.READY)
    reporting.report(body, patch, outcome, rt.clock())
    if outcome.reason == "ClientSecretMissing":
        # The Secret may be created any time; look again later (nothing watches Secrets).
        delay = reporting.retry_delay(retry, settings.retry_delay, settings.max_retry_delay)
        raise kopf.TemporaryError(outcome.message, delay=delay)


async def deleted(rt: runtime.Runtime, view: indexes.View, body: kopf.Body) -> None:
    app_ref = body.get("spec", {}).get("appRef")
    if isinstance(app_ref, str):
        await rt.publisher.refresh(view, body.get("metadata", {}).get("namespace", ""), app_ref)
