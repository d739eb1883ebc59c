"""App reconcile: the App's data key exists, wrapped by the root key."""

from __future__ import annotations

from strongroom_core.resources import models
from strongroom_operator.reconcile import context, outcomes


async def reconcile_app(ctx: context.ReconcileContext, app: models.App) -> outcomes.Outcome:
    await ctx.key_service.ensure_app_keys(app.meta.namespace, app.meta.name)
    return outcomes.READY
