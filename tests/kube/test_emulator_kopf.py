"""A real kopf operator connects to the emulator, sees a create and writes status."""

from __future__ import annotations

import asyncio
from typing import Any

import kopf
import pytest

from tests.kube import emulator, kopfrun


def app(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "strongroom.dev/v1alpha1",
        "kind": "App",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"serviceAccounts": ["shop"]},
    }


async def until(condition: Any, timeout: float = 20) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


async def test_kopf_sees_an_app_created_and_patches_its_status(
    kube: emulator.KubeEmulator,
) -> None:
    registry = kopf.OperatorRegistry()
    seen: list[str] = []

    @kopf.on.create("strongroom.dev", "v1alpha1", "apps", registry=registry, id="created")
    def created(name: str, body: kopf.Body, **_: Any) -> dict[str, str]:
        seen.append(name)
        kopf.info(body, reason="Seen", message="the App was seen")
        return {"phase": "Seen"}

    async with kopfrun.running_operator(kube, registry):
        kube.create(app("shop"))

        def handled() -> bool:
            found = kube.get("apps.strongroom.dev", "shop", "default")
            return bool(found and (found.get("status") or {}).get("created") == {"phase": "Seen"})

        await until(handled)
        await until(lambda: bool(kube.list("events", "default")))
    assert seen == ["shop"]
    (event,) = kube.list("events", "default")
    assert (event["reason"], event["message"]) == ("Seen", "the App was seen")
    assert event["involvedObject"]["name"] == "shop"
    stored = kube.get("apps.strongroom.dev", "shop", "default")
    assert stored is not None
    assert stored["metadata"]["generation"] == 1  # status writes never bump the generation


async def test_kopf_deletes_through_its_finalizer(kube: emulator.KubeEmulator) -> None:
    registry = kopf.OperatorRegistry()
    deleted: list[str] = []

    @kopf.on.create("strongroom.dev", "v1alpha1", "apps", registry=registry)
    def created(**_: Any) -> None:
        pass

    @kopf.on.delete("strongroom.dev", "v1alpha1", "apps", registry=registry)
    def removed(name: str, **_: Any) -> None:
        deleted.append(name)

    async with kopfrun.running_operator(kube, registry):
        kube.create(app("shop"))

        def finalized() -> bool:
            found = kube.get("apps.strongroom.dev", "shop", "default")
            return bool(found and found["metadata"].get("finalizers"))

        await until(finalized)
        kube.delete("apps.strongroom.dev", "shop", "default")
        await until(lambda: kube.get("apps.strongroom.dev", "shop", "default") is None)
    assert deleted == ["shop"]


async def test_kopf_logs_in_with_the_emulators_kubeconfig(
    kube: emulator.KubeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))
    registry = kopf.OperatorRegistry()
    seen: list[str] = []
    kopf.on.login(registry=registry)(kopf.login_with_kubeconfig)

    @kopf.on.create("strongroom.dev", "v1alpha1", "apps", registry=registry)
    def created(name: str, **_: Any) -> None:
        seen.append(name)

    async with kopfrun.running_operator(kube, registry, login=False):
        kube.create(app("shop"))
        await until(lambda: seen == ["shop"])


async def test_two_peered_operators_let_only_the_higher_priority_one_handle(
    kube: emulator.KubeEmulator,
) -> None:
    kube.enable_kopf_peering()
    handled: list[str] = []

    def registry_of(replica: str) -> kopf.OperatorRegistry:
        registry = kopf.OperatorRegistry()

        @kopf.on.create("strongroom.dev", "v1alpha1", "apps", registry=registry)
        def created(name: str, **_: Any) -> None:
            handled.append(replica)

        return registry

    peered: dict[str, Any] = {"standalone": False, "peering_name": "default"}
    async with kopfrun.running_operators(
        kube,
        kopfrun.Replica(registry_of("low"), priority=100, options=peered),
        kopfrun.Replica(registry_of("high"), priority=200, options=peered),
    ):

        def both_announced() -> bool:
            peering = kube.get("clusterkopfpeerings.kopf.dev", "default")
            return len((peering or {}).get("status") or {}) == 2

        await until(both_announced)
        await asyncio.sleep(0.5)  # the low-priority one pauses on seeing the other
        kube.create(app("shop"))
        await until(lambda: bool(handled))
        await asyncio.sleep(0.5)
    assert handled == ["high"]
