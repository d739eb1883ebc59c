"""The emulator's state: objects, one global resourceVersion counter and an event log.

Every write runs without an ``await`` between its checks and its commit, so on one event loop
writes are atomic: the compare-and-swap on ``metadata.resourceVersion`` cannot be raced. Every
commit takes the next revision and appends one event to the log; a watch reads the log from a
revision, so nothing committed between a list and a watch is lost. The log keeps ``history``
events; a watch from before the oldest kept one gets 410 Gone, as after etcd compaction.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import dataclasses
import datetime
import secrets
import uuid
from typing import Any

from tests.kube import errors, resources, selectors

Key = tuple[str, str, str]  # resource key, namespace ("" for cluster-scoped), name
SYSTEM_FIELDS = ("uid", "creationTimestamp", "resourceVersion", "generation", "deletionTimestamp")


@dataclasses.dataclass(frozen=True)
class Event:
    revision: int
    resource: str
    type: str  # ADDED, MODIFIED, DELETED
    object: dict[str, Any]
    old: dict[str, Any] | None


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    """What ``generation`` counts: everything but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _normalise_secret(res: resources.ResourceDef, obj: dict[str, Any]) -> None:
    if res.key != "/secrets":
        return
    data = dict(obj.get("data") or {})
    for key, value in (obj.pop("stringData", None) or {}).items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    for key, value in data.items():
        try:
            base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            name = (obj.get("metadata") or {}).get("name", "")
            raise errors.invalid(
                "secrets", name, f"data[{key}]: Invalid value: illegal base64 data"
            ) from None
    if data:
        obj["data"] = data
    obj.setdefault("type", "Opaque")


class Store:
    def __init__(self, registry: resources.Registry, history: int = 10_000) -> None:
        self.registry = registry
        self.history = history
        self.revision = 0
        self.compacted = 0
        """Revisions up to this one are no longer in the log."""
        self.objects: dict[Key, dict[str, Any]] = {}
        self.log: list[Event] = []
        """Contiguous revisions from ``compacted + 1``; trimmed in steps, so a watcher reading
        from its cursor costs only the events it reads."""
        self.changed = asyncio.Event()

    # --- the log ----------------------------------------------------------------------------

    def _commit(
        self,
        res: resources.ResourceDef,
        type_: str,
        obj: dict[str, Any],
        old: dict[str, Any] | None,
    ) -> dict[str, Any]:
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        key = (res.key, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if type_ == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj
        self.log.append(Event(self.revision, res.key, type_, copy.deepcopy(obj), old))
        if len(self.log) > self.history + max(1, self.history // 10):
            excess = len(self.log) - self.history
            self.compacted = self.log[excess - 1].revision
            del self.log[:excess]
        self.wake()
        return copy.deepcopy(obj)

    def wake(self) -> None:
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()

    def compact(self) -> None:
        """Drop the whole log, as etcd compaction would: older revisions become 410 Gone."""
        self.log.clear()
        self.compacted = self.revision

    def events_after(self, revision: int) -> list[Event]:
        if revision < self.compacted:
            raise errors.gone(f"too old resource version: {revision} ({self.compacted + 1})")
        if not self.log or revision >= self.revision:
            return []
        return self.log[max(0, revision - self.log[0].revision + 1) :]

    # --- reads --------------------------------------------------------------------------------

    def _key(self, res: resources.ResourceDef, namespace: str, name: str) -> Key:
        return (res.key, namespace if res.namespaced else "", name)

    def get(self, res: resources.ResourceDef, namespace: str, name: str) -> dict[str, Any]:
        obj = self.objects.get(self._key(res, namespace, name))
        if obj is None:
            raise errors.not_found(res.plural, name, res.group)
        return copy.deepcopy(obj)

    def list(
        self,
        res: resources.ResourceDef,
        namespace: str | None,
        labels: selectors.Matcher,
        fields: selectors.Matcher,
    ) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(obj)
            for (rkey, ns, _), obj in sorted(self.objects.items())
            if rkey == res.key and (namespace is None or ns == namespace)
            if labels(obj) and fields(obj)
        ]

    # --- writes -------------------------------------------------------------------------------

    def _check_namespace(self, res: resources.ResourceDef, namespace: str) -> None:
        if res.namespaced and ("/namespaces", "", namespace) not in self.objects:
            raise errors.not_found("namespaces", namespace)

    def create(
        self, res: resources.ResourceDef, namespace: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise errors.invalid(
                    res.plural, "", "metadata.name: Required value: name is required"
                )
            meta["name"] = meta["generateName"] + secrets.token_hex(3)[:5]
        if res.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on"
                    " the request"
                )
            meta["namespace"] = namespace
            self._check_namespace(res, namespace)
        else:
            meta.pop("namespace", None)
        key = self._key(res, namespace, meta["name"])
        if key in self.objects:
            raise errors.already_exists(res.plural, meta["name"], res.group)
        for field in SYSTEM_FIELDS:
            meta.pop(field, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        meta["generation"] = 1
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        if res.custom and res.status_subresource:
            obj.pop("status", None)
        _normalise_secret(res, obj)
        created = self._commit(res, "ADDED", obj, None)
        if res.key == "apiextensions.k8s.io/customresourcedefinitions":
            for served in resources.from_crd(created):
                self.registry.add(served)
        return created

    def update(
        self,
        res: resources.ResourceDef,
        namespace: str,
        name: str,
        new: dict[str, Any],
        subresource: str = "",
        precondition: str | None = None,
    ) -> dict[str, Any]:
        """Replace the object (PUT, or the result of a PATCH). ``precondition`` is the
        resourceVersion the writer based its change on: stale → 409 Conflict."""
        current = self.get(res, namespace, name)
        if precondition and precondition != current["metadata"]["resourceVersion"]:
            raise errors.conflict(res.plural, name, res.group)
        new_meta = new.get("metadata") or {}
        if new_meta.get("name", name) != name:
            raise errors.bad_request(
                f"the name of the object ({new_meta.get('name')}) does not match the name on the"
                f" URL ({name})"
            )
        if subresource == "status":
            merged = copy.deepcopy(current)
            if "status" in new:
                merged["status"] = copy.deepcopy(new["status"])
            else:
                merged.pop("status", None)
        else:
            merged = copy.deepcopy(new)
            meta = merged.setdefault("metadata", {})
            for field in SYSTEM_FIELDS:
                if field in current["metadata"]:
                    meta[field] = current["metadata"][field]
                else:
                    meta.pop(field, None)
            meta["name"] = name
            if res.namespaced:
                meta["namespace"] = current["metadata"]["namespace"]
            merged["apiVersion"], merged["kind"] = res.api_version, res.kind
            if res.status_subresource:
                if "status" in current:
                    merged["status"] = current["status"]
                else:
                    merged.pop("status", None)
            added = set(meta.get("finalizers") or ()) - set(
                current["metadata"].get("finalizers") or ()
            )
            if current["metadata"].get("deletionTimestamp") and added:
                raise errors.invalid(
                    res.plural,
                    name,
                    "metadata.finalizers: Forbidden: no new finalizers can be added if the object"
                    " is being deleted",
                    res.group,
                )
            _normalise_secret(res, merged)
            if _content(merged) != _content(current):
                meta["generation"] = int(current["metadata"].get("generation", 1)) + 1
        if merged == current:
            return current  # a no-op write changes nothing, not even the resourceVersion
        updated = self._commit(res, "MODIFIED", merged, current)
        if updated["metadata"].get("deletionTimestamp") and not updated["metadata"].get(
            "finalizers"
        ):
            self._remove(res, updated)
        return updated

    def delete(
        self,
        res: resources.ResourceDef,
        namespace: str,
        name: str,
        options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """With finalizers: mark (``deletionTimestamp``) and keep; without: remove."""
        current = self.get(res, namespace, name)
        pre = (options or {}).get("preconditions") or {}
        if (
            pre.get("resourceVersion")
            and pre["resourceVersion"] != current["metadata"]["resourceVersion"]
        ):
            raise errors.conflict(res.plural, name, res.group)
        if pre.get("uid") and pre["uid"] != current["metadata"]["uid"]:
            raise errors.conflict(res.plural, name, res.group)
        if current["metadata"].get("finalizers"):
            if current["metadata"].get("deletionTimestamp"):
                return current
            marked = copy.deepcopy(current)
            marked["metadata"]["deletionTimestamp"] = now()
            return self._commit(res, "MODIFIED", marked, current)
        return self._remove(res, current)

    def _remove(self, res: resources.ResourceDef, obj: dict[str, Any]) -> dict[str, Any]:
        removed = self._commit(res, "DELETED", copy.deepcopy(obj), obj)
        if res.key == "apiextensions.k8s.io/customresourcedefinitions":
            self.registry.remove_crd(removed)
        uid = removed["metadata"]["uid"]
        if res.key == "/namespaces":
            self._collect(lambda key, _: key[1] == removed["metadata"]["name"])
        # Garbage collection of dependents (background propagation).
        self._collect(
            lambda _, o: any(
                ref.get("uid") == uid for ref in o["metadata"].get("ownerReferences") or ()
            )
        )
        return removed

    def _collect(self, doomed: Any) -> None:
        for key, obj in list(self.objects.items()):
            if key in self.objects and doomed(key, obj):
                owner = self._resource_of(key[0])
                if owner is not None:
                    self.delete(owner, key[1], key[2])

    def _resource_of(self, key: str) -> resources.ResourceDef | None:
        for res in self.registry.all():
            if res.key == key:
                return res
        return None
