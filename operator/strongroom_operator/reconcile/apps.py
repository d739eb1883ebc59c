"""App reconcile: the App's data key exists, wrapped by the root key."""

from __future__ import annotations

import contextlib

from strongroom_core.resources import models
from strongroom_core.sealing import appkeys, keys, rootkeys
from strongroom_core.storage import errors as storage_errors
from strongroom_operator.reconcile import context, outcomes

KEYS_DOCUMENT = "keys"


async def reconcile_app(ctx: context.ReconcileContext, app: models.App) -> outcomes.Outcome:
    await ensure_app_keys(ctx, app.meta.namespace, app.meta.name)
    return outcomes.READY


async def ensure_app_keys(ctx: context.ReconcileContext, namespace: str, app: str) -> None:
    """Create the App's keys document on first reconcile; an existing one is left alone (two
    replicas racing to create it both end with the same stored document)."""
    if await ctx.storage.get_document(namespace, app, KEYS_DOCUMENT) is not None:
        return
    root = await rootkeys.load_or_create(ctx.root_store)
    document = appkeys.new_app_keys_document(root, namespace, app)
    with contextlib.suppress(storage_errors.AlreadyExistsError):
        await ctx.storage.put_document(namespace, app, KEYS_DOCUMENT, document, None)


async def app_keyring(ctx: context.ReconcileContext, namespace: str, app: str) -> keys.Keyring:
    """The App's data keys, unwrapped in memory."""
    await ensure_app_keys(ctx, namespace, app)
    stored = await ctx.storage.get_document(namespace, app, KEYS_DOCUMENT)
    assert stored is not None  # ensure_app_keys created it; documents are never deleted here
    root = await rootkeys.load_or_create(ctx.root_store)
    return appkeys.unwrap_app_keys(root, stored.body, namespace, app)
