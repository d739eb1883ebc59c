"""Idempotent handlers: an operator stopped in the middle of a reconcile (after the record or
the App's keys were written, before the status) leaves nothing half done; the next one
converges without a second key or a rewritten record. Two peered replicas: one acts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from strongroom_operator.kopfhandlers import grants as grant_handlers
from strongroom_operator.kopfhandlers import wiring
from strongroom_operator.reconcile import apps, grants
from tests import canary
from tests.kube import emulator, kopfrun
from tests.operator import conftest as c


def stalling(real: Any, reached: asyncio.Event) -> Any:
    """``real``, then hang: the operator is stopped right after the write."""

    async def stalled(*args: Any, **kwargs: Any) -> Any:
        await real(*args, **kwargs)
        reached.set()
        await asyncio.Event().wait()

    return stalled


async def test_a_stop_after_the_record_write_converges_on_restart_without_rewriting_it(
    kube: emulator.KubeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = canary.new()
    value = await c.sealed_value(kube, "deploy", "echo", {"token": token})
    reached = asyncio.Event()
    with monkeypatch.context() as patched:
        patched.setattr(grants, "reconcile_grant", stalling(grants.reconcile_grant, reached))
        async with c.operator(kube):
            kube.create(c.app())
            kube.create(c.secret_provider())
            kube.create(c.grant("deploy", credential={"sealedValue": value}))
            await asyncio.wait_for(reached.wait(), 20)
    written = c.record(kube, "deploy")
    assert written is not None
    assert "state" not in c.status(kube, "grants", "deploy")  # the status was never patched
    async with c.operator(kube):
        await c.until(lambda: c.status(kube, "grants", "deploy").get("state") == "Ready")
    assert c.record(kube, "deploy").version == written.version
    assert await c.open_record(kube, "deploy") == {"token": token}


async def test_a_stop_after_the_app_keys_write_does_not_create_a_second_key(
    kube: emulator.KubeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached = asyncio.Event()
    with monkeypatch.context() as patched:
        patched.setattr(apps, "reconcile_app", stalling(apps.reconcile_app, reached))
        async with c.operator(kube):
            kube.create(c.app())
            await asyncio.wait_for(reached.wait(), 20)
    first = c.document(kube, "shop", "keys")
    assert c.ready(kube, "apps", "shop") is None
    async with c.operator(kube):
        await c.until(lambda: c.ready(kube, "apps", "shop"))
        await c.until(lambda: c.document(kube, "shop", "policy"))
    again = c.document(kube, "shop", "keys")
    assert (again.version, again.body) == (first.version, first.body)


async def test_two_peered_replicas_do_not_both_act(
    kube: emulator.KubeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    kube.enable_kopf_peering("strongroom")
    acting: set[int] = set()
    real = grant_handlers.reconcile

    async def recording(rt: Any, *args: Any, **kwargs: Any) -> None:
        acting.add(id(rt))
        await real(rt, *args, **kwargs)

    monkeypatch.setattr(grant_handlers, "reconcile", recording)
    values = {
        name: await c.sealed_value(kube, name, "echo", {"token": canary.new()})
        for name in ("a", "b", "c")
    }
    peered = {"standalone": False, "peering_name": "strongroom"}
    replicas = [
        kopfrun.Replica(
            wiring.build_registry(c.test_settings(kube, peering="strongroom", priority=p)),
            priority=p,
            options=peered,
        )
        for p in (100, 200)
    ]
    async with kopfrun.running_operators(kube, *replicas):

        def both_announced() -> bool:
            peering = kube.get("clusterkopfpeerings.kopf.dev", "strongroom")
            return len((peering or {}).get("status") or {}) == 2

        await c.until(both_announced)
        await asyncio.sleep(0.5)  # the lower priority one pauses on seeing the other
        kube.create(c.app())
        kube.create(c.secret_provider())
        for name, value in values.items():
            kube.create(c.grant(name, credential={"sealedValue": value}))
        for name in values:
            await c.until(c.state_is(kube, name, "Ready"))
    assert len(acting) == 1
    assert c.document(kube, "shop", "keys").version == 1
