"""App: its data key (created once, wrapped by the root key) and its compiled policy, which
also carries the App's allowed ServiceAccounts for sidecar authentication; the control plane's
CA bundle in its namespace (``cabundles``)."""

from __future__ import annotations

import kopf

from strongroom_core.resources import models
from strongroom_operator.kopfhandlers import checks, indexes, reporting, runtime
from strongroom_operator.reconcile import apps


async def reconcile(
    rt: runtime.Runtime, view: indexes.View, body: kopf.Body, patch: kopf.Patch
) -> None:
    # Even for an invalid App: its pods' sidecars need the CA all the same.
    await rt.ca_bundles.ensure(body.get("metadata", {}).get("namespace", ""))
    try:
        app = checks.parsed(body, models.App, allow_loopback_http=rt.settings.allow_loopback_http)
    except checks.Invalid as problem:
        reporting.report(body, patch, problem.outcome, rt.clock())
        return
    outcome = await apps.reconcile_app(rt.ctx, app)
    await rt.publisher.refresh(view, *app.key)
    reporting.report(body, patch, outcome, rt.clock())


async def deleted(rt: runtime.Runtime, body: kopf.Body) -> None:
    """The App's key document and policy stay (grants of a re-created App of the same name keep
    their records until their own Grants go); only in-memory bookkeeping is dropped, and the CA
    ConfigMap when this was the namespace's last App."""
    metadata = body.get("metadata", {})
    rt.publisher.forget(metadata.get("namespace", ""), metadata.get("name", ""))
    await rt.ca_bundles.release(metadata.get("namespace", ""))


async def keep_ca_bundle(rt: runtime.Runtime, body: kopf.Body) -> None:
    """The App's timer: a renewed CA (or a hand-deleted ConfigMap) is caught up with."""
    if body.get("metadata", {}).get("deletionTimestamp"):
        return
    await rt.ca_bundles.ensure(body.get("metadata", {}).get("namespace", ""))
