"""``ClusterApi``: what a scenario does on the Kubernetes API, over HTTP, so the same scenario
runs against the emulator and a real cluster: create, read, delete, and wait for a condition
with a message that says what was awaited."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from strongroom_kube import client, config

T = TypeVar("T")
GROUP_VERSION = "strongroom.dev/v1alpha1"
STRONGROOM_KINDS = frozenset({"apps", "providers", "grants", "agents"})


def path(plural: str, namespace: str | None = None, name: str | None = None) -> str:
    """The REST path of a core or Strongroom resource (collection when ``name`` is None)."""
    base = f"/apis/{GROUP_VERSION}" if plural in STRONGROOM_KINDS else "/api/v1"
    where = f"/namespaces/{namespace}" if namespace else ""
    return f"{base}{where}/{plural}" + (f"/{name}" if name else "")


@dataclasses.dataclass
class ClusterApi:
    kube: client.KubeClient
    namespace: str
    """The App namespace a scenario works in."""
    control_plane_namespace: str
    timeout: float = 30.0
    """Seconds :meth:`until` waits (a real cluster needs more than the emulator)."""

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        plural = _plural(obj["kind"])
        namespace = meta.get("namespace", self.namespace)
        meta["namespace"] = namespace
        return await self.kube.request("POST", path(plural, namespace), body=obj)

    async def get(
        self, plural: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        try:
            return await self.kube.request("GET", path(plural, namespace or self.namespace, name))
        except client.NotFound:
            return None

    async def delete(self, plural: str, name: str, namespace: str | None = None) -> None:
        with contextlib.suppress(client.NotFound):
            await self.kube.request("DELETE", path(plural, namespace or self.namespace, name))

    async def status(self, plural: str, name: str) -> dict[str, Any]:
        found = await self.get(plural, name)
        return dict((found or {}).get("status") or {})

    async def ready(self, plural: str, name: str) -> dict[str, Any] | None:
        for condition in (await self.status(plural, name)).get("conditions") or []:
            if condition.get("type") == "Ready":
                return dict(condition)
        return None

    async def until(self, condition: Callable[[], Awaitable[T | None]], what: str) -> T:
        """Poll ``condition`` until it returns something truthy; that value. On timeout an
        ``AssertionError`` naming ``what``."""
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            value = await condition()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"waited {self.timeout:.0f}s for {what}")
            await asyncio.sleep(0.1)


def _plural(kind: str) -> str:
    return {"ServiceAccount": "serviceaccounts"}.get(kind, kind.lower() + "s")


@contextlib.asynccontextmanager
async def connect(
    cluster: config.ClusterConfig, namespace: str, control_plane_namespace: str, timeout: float
) -> AsyncIterator[ClusterApi]:
    """A ``ClusterApi`` with its own connection, closed on exit (with kopf running in the same
    loop, close it before the operator stops: kopf cancels tasks started after it)."""
    kube = client.KubeClient(cluster)
    await kube.open()
    try:
        yield ClusterApi(kube, namespace, control_plane_namespace, timeout)
    finally:
        await kube.close()
