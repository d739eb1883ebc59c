"""Key rotation over the operator's Kubernetes storage (``sealing.rotation`` over Secrets): a
new root key and a new App key keep every grant readable, and the running operator goes on
sealing new grants under the new keys."""

from __future__ import annotations

from strongroom_core.sealing import envelopes, rotation
from tests import canary
from tests.kube import emulator
from tests.operator import conftest as c


async def test_root_and_app_key_rotation_keep_every_grant_readable(
    kube: emulator.KubeEmulator,
) -> None:
    tokens = {name: canary.new() for name in ("one", "two", "three")}
    values = {
        name: await c.sealed_value(kube, name, "echo", {"token": token})
        for name, token in tokens.items()
    }
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        for name in ("one", "two"):
            kube.create(c.grant(name, credential={"sealedValue": values[name]}))
        for name in ("one", "two"):
            await c.until(c.state_is(kube, name, "Ready"))
        progress: list[tuple[int, int]] = []
        async with c.storage_of(kube) as store:
            roots = c.root_store(store)
            root_result = await rotation.rotate_root_key(
                store, roots, lambda done, total, _: progress.append((done, total))
            )
            app_result = await rotation.rotate_app_key(store, await roots.load(), "team-a", "shop")
        assert root_result.rewrapped == 1
        assert app_result.resealed == 2
        assert progress[-1][0] == progress[-1][1]
        # The operator (its key cache is behind) seals a new grant; every grant opens.
        kube.create(c.grant("three", credential={"sealedValue": values["three"]}))
        await c.until(lambda: c.status(kube, "grants", "three").get("state") == "Ready")
    for name, token in tokens.items():
        assert await c.open_record(kube, name) == {"token": token}
        assert envelopes.key_id(c.record(kube, name).sealed) == app_result.new_kid
