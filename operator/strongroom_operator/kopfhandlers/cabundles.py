"""The control plane's CA bundle, published as a ConfigMap (``strongroom-ca``, key ``ca.crt``)
into every namespace that has an App.

Why the operator does it: the webhook mounts that ConfigMap into every injected sidecar, and a
pod whose ConfigMap is missing stays Pending. Listing App namespaces in the chart
(``controlPlane.caBundle.namespaces``) means a ``helm upgrade`` per new team; the operator
already sees every App.

- **Source**: a ConfigMap or Secret (key ``ca.crt``) in the control plane's namespace — the
  chart's ``strongroom-ca`` ConfigMap (generated and secret TLS modes) or the serving
  certificate's Secret (cert-manager mode, where cert-manager renews the CA). It is read at most
  once per ``max_age`` seconds, however many Apps ask.
- **Kept current**: every App's reconcile and a timer per App call :meth:`CaBundles.ensure`;
  each namespace is compared with the source at most once per ``max_age``, so a renewed CA
  reaches every namespace within about that time, and a hand-deleted ConfigMap comes back.
- **Deleted** when the last App of a namespace is deleted (:meth:`CaBundles.release`). The
  namespace's Apps are listed from the API, not taken from the index: an App that fails
  validation still has pods that need the CA.
- **Ownership**: the operator creates ConfigMaps labelled ``app.kubernetes.io/managed-by:
  strongroom`` and only ever updates or deletes those. One made by Helm (the chart's
  ``controlPlane.caBundle.namespaces``), trust-manager or a person is left alone.
- Not done: a namespace whose last App was deleted while no operator ran keeps its ConfigMap
  (a public certificate; delete it by hand). Failures (say, a 403 without the chart's
  ConfigMap rights) are logged and retried on the next check; they never fail an App's
  reconcile.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections.abc import Callable
from typing import Any

from strongroom_core import podspec
from strongroom_kube import client

logger = logging.getLogger("strongroom.operator")

CA_KEY = podspec.CA_FILE_NAME
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "strongroom"
CONFIGMAPS = "/api/v1/namespaces/{namespace}/configmaps"
SECRETS = "/api/v1/namespaces/{namespace}/secrets"
APPS = "/apis/strongroom.dev/v1alpha1/namespaces/{namespace}/apps"
SOURCE_KINDS = ("configmap", "secret")

Source = tuple[str, str, str]
"""``(kind, namespace, name)``: where the CA bundle is read."""


def parse_source(value: str, namespace: str) -> Source | None:
    """``configmap/NAME`` or ``secret/NAME`` in ``namespace``; ``""`` → ``None`` (off)."""
    value = value.strip()
    if not value:
        return None
    kind, slash, name = value.partition("/")
    if not slash or kind.lower() not in SOURCE_KINDS or not name or "/" in name:
        raise ValueError(f"{value!r}: expected configmap/NAME or secret/NAME, or empty for none")
    return kind.lower(), namespace, name


def owned(configmap: dict[str, Any]) -> bool:
    labels = (configmap.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(MANAGED_BY_LABEL) == MANAGED_BY)


class CaBundles:
    def __init__(
        self,
        kube: client.KubeClient,
        source: Source | None,
        configmap: str = podspec.CA_CONFIGMAP_NAME,
        *,
        max_age: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kube = kube
        self.source = source
        self.configmap = configmap
        self.max_age = max_age
        self._clock = clock
        self._read: tuple[float, str | None] | None = None
        self._checked: dict[str, tuple[str, float]] = {}
        """namespace → (the CA its ConfigMap was found or made with, when)."""
        self._locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"CaBundles(source={self.source!r}, {len(self._checked)} namespaces)"

    def _applies_to(self, namespace: str) -> bool:
        # The source's own namespace holds the chart's ConfigMap, which is the source itself.
        return self.source is not None and namespace != self.source[1]

    async def current(self) -> str | None:
        """The CA bundle (PEM), or ``None`` while the source does not exist or lacks it."""
        now = self._clock()
        if self._read is not None and now - self._read[0] < self.max_age:
            return self._read[1]
        assert self.source is not None
        kind, namespace, name = self.source
        collection = (CONFIGMAPS if kind == "configmap" else SECRETS).format(namespace=namespace)
        try:
            found = await self.kube.request("GET", f"{collection}/{name}")
        except client.NotFound:
            found = {}
        value = (found.get("data") or {}).get(CA_KEY)
        if isinstance(value, str) and kind == "secret":
            try:
                value = base64.b64decode(value, validate=True).decode("ascii")
            except (binascii.Error, UnicodeDecodeError):
                value = None
        ca = value if isinstance(value, str) and value.strip() else None
        if ca is None:
            logger.warning("no CA bundle yet: %s %s/%s has no %s", kind, namespace, name, CA_KEY)
        self._read = (now, ca)
        return ca

    async def ensure(self, namespace: str) -> None:
        """The namespace's ConfigMap carries the current CA (created or updated when needed)."""
        if not self._applies_to(namespace):
            return
        async with self._locks.setdefault(namespace, asyncio.Lock()):
            try:
                ca = await self.current()
                if ca is None:
                    return
                seen = self._checked.get(namespace)
                if seen is not None and seen[0] == ca and self._clock() - seen[1] < self.max_age:
                    return
                if await self._write(namespace, ca):
                    self._checked[namespace] = (ca, self._clock())
            except (client.ApiError, OSError, TimeoutError) as e:
                logger.warning(
                    "cannot publish ConfigMap %s/%s: %s; retried on the next check",
                    namespace,
                    self.configmap,
                    e,
                )

    async def _write(self, namespace: str, ca: str) -> bool:
        """True when the ConfigMap now holds ``ca`` or is someone else's to keep."""
        collection = CONFIGMAPS.format(namespace=namespace)
        path = f"{collection}/{self.configmap}"
        try:
            existing = await self.kube.request("GET", path)
        except client.NotFound:
            try:
                await self.kube.request("POST", collection, body=self._configmap(namespace, ca))
                logger.info("published ConfigMap %s/%s", namespace, self.configmap)
                return True
            except client.AlreadyExists:
                existing = await self.kube.request("GET", path)
        if not owned(existing):
            logger.info(
                "ConfigMap %s/%s is not managed by strongroom (no %s=%s label): left alone",
                namespace,
                self.configmap,
                MANAGED_BY_LABEL,
                MANAGED_BY,
            )
            return True
        if (existing.get("data") or {}).get(CA_KEY) == ca:
            return True
        replacement = self._configmap(namespace, ca)
        replacement["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
        try:
            await self.kube.request("PUT", path, body=replacement)
        except client.Conflict:
            return False  # written in between: looked at again on the next check
        logger.info("updated ConfigMap %s/%s to the current CA", namespace, self.configmap)
        return True

    async def release(self, namespace: str) -> None:
        """An App of ``namespace`` was deleted: without any App left, delete our ConfigMap."""
        if not self._applies_to(namespace):
            return
        async with self._locks.setdefault(namespace, asyncio.Lock()):
            try:
                listed = await self.kube.request("GET", APPS.format(namespace=namespace))
                living = [
                    a
                    for a in listed.get("items") or []
                    if not (a.get("metadata") or {}).get("deletionTimestamp")
                ]
                if living:
                    return
                self._checked.pop(namespace, None)
                await self._delete(namespace)
            except (client.ApiError, OSError, TimeoutError) as e:
                logger.warning("cannot delete ConfigMap %s/%s: %s", namespace, self.configmap, e)

    async def _delete(self, namespace: str) -> None:
        path = f"{CONFIGMAPS.format(namespace=namespace)}/{self.configmap}"
        try:
            existing = await self.kube.request("GET", path)
        except client.NotFound:
            return
        if not owned(existing):
            return
        meta = existing["metadata"]
        options = {
            "preconditions": {"uid": meta["uid"], "resourceVersion": meta["resourceVersion"]}
        }
        try:
            await self.kube.request("DELETE", path, body=options)
        except (client.NotFound, client.Conflict):
            return  # gone already, or replaced by someone in between: theirs now
        logger.info("deleted ConfigMap %s/%s: no App left there", namespace, self.configmap)

    def _configmap(self, namespace: str, ca: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": self.configmap,
                "namespace": namespace,
                "labels": {MANAGED_BY_LABEL: MANAGED_BY, "app.kubernetes.io/name": "strongroom"},
                "annotations": {
                    "strongroom.dev/source": "/".join(self.source or ()),
                },
            },
            "data": {CA_KEY: ca},
        }
