"""An App's changes from a label-selected watch of its record Secrets.

The revision of a change is the Secret's resourceVersion (etcd's revision): strictly increasing
along one watch, and the cursor the next watch resumes from. A watch ends every
``watch_timeout`` seconds (API servers end them anyway); it is reopened from the last revision
seen, or from a bookmark's, so a quiet App's cursor keeps up with compaction.

``since=0`` cannot replay history (etcd keeps only a window), so it yields the current state:
each record once, as a change with its own resourceVersion, in increasing order, then the
changes after the list. A consumer resynchronising from nothing needs no more; deleted records
simply do not appear.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp

from strongroom_core.storage import errors, records
from strongroom_kube import client
from strongroom_operator.kubestore import secrets

if TYPE_CHECKING:
    from strongroom_operator.kubestore import storage

WATCHED_DOCUMENTS: dict[str, records.ChangeKind] = {"policy": "policy", "keys": "keys"}


def to_change(
    event_type: str, secret: dict[str, Any], namespace: str, app: str
) -> records.Change | None:
    revision = secrets.resource_version(secret)
    _, _, name = secrets.names(secret)
    if secrets.kind(secret) == secrets.GRANT:
        grant = None if event_type == "DELETED" else secrets.grant_from_secret(secret)
        return records.Change(revision, "grant", namespace, app, name, grant=grant)
    kind = WATCHED_DOCUMENTS.get(name)
    if kind is None or event_type == "DELETED":
        return None
    document = secrets.document_from_secret(secret)
    return records.Change(revision, kind, namespace, app, name, document=document)


async def watch(
    store: storage.KubernetesStorage, namespace: str, app: str, since: int
) -> AsyncIterator[records.Change]:
    selector = secrets.app_selector(namespace, app)
    cursor = since
    if since == 0:
        found = await store.kube.request(
            "GET", store.collection, params={"labelSelector": selector}
        )
        items = sorted(found.get("items") or [], key=secrets.resource_version)
        for secret in items:
            if secrets.names(secret)[:2] == (namespace, app):
                change = to_change("ADDED", secret, namespace, app)
                if change is not None:
                    yield change
        cursor = secrets.resource_version(found)
    params = {"labelSelector": selector, "allowWatchBookmarks": "true"}
    while not store.closed:
        try:
            events = store.kube.watch(
                store.collection, {**params, "resourceVersion": str(cursor)}, store.watch_timeout
            )
            async for event in events:
                event_type, obj = event.get("type"), event.get("object") or {}
                if event_type == "ERROR":
                    if obj.get("code") == 410:
                        raise errors.RevisionGoneError(cursor, 0, 0)
                    raise errors.StorageError(f"watch failed: {obj.get('reason', 'unknown')}")
                if event_type == "BOOKMARK":
                    cursor = secrets.resource_version(obj)
                    continue
                if secrets.names(obj)[:2] != (namespace, app) and event_type != "DELETED":
                    continue  # a hash collision of the app key: not this App's record
                change = to_change(str(event_type), obj, namespace, app)
                cursor = secrets.resource_version(obj)
                if change is not None:
                    yield change
        except client.Gone:
            raise errors.RevisionGoneError(cursor, 0, 0) from None
        except (aiohttp.ClientError, RuntimeError, TimeoutError):
            if store.closed:
                return
            raise
