"""Key release: only the App's own sidecars get its data keys, every version of them."""

from __future__ import annotations

import asyncio
import base64
import logging

import pytest

from strongroom_core.sealing import appkeys, envelopes, keys
from strongroom_operator.controlplane import auth
from tests import canary
from tests.controlplane import harness as h


async def fetch_keyring(harness: h.Harness) -> keys.Keyring:
    async with harness.client.get(
        f"{harness.url}/v1/apps/team-a/shop/keys", headers=h.SIDECAR
    ) as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        body = await response.json()
    for key in body["keys"]:
        canary.register(key["key"])
    released = [
        keys.DataKey(kid=k["kid"], material=base64.b64decode(k["key"])) for k in body["keys"]
    ]
    [active] = [k["kid"] for k in body["keys"] if k["active"]]
    return keys.Keyring(released, active)


async def test_the_apps_sidecar_gets_the_key_that_opens_its_blobs(harness: h.Harness) -> None:
    server_side = await harness.key_service.app_keys("team-a", "shop")
    blob = envelopes.seal(server_side.active, b"credential", b"aad")
    released = await fetch_keyring(harness)
    assert envelopes.open_envelope(released, blob, b"aad") == b"credential"


async def test_after_an_app_key_rotation_every_key_version_is_released(
    harness: h.Harness,
) -> None:
    before = await fetch_keyring(harness)
    root = await harness.root_store.load()
    document = await harness.storage.get_document("team-a", "shop", "keys")
    assert document is not None
    rotated = appkeys.add_app_key(root, document.body, "team-a", "shop")
    await harness.storage.put_document("team-a", "shop", "keys", rotated, document.version)
    after = await fetch_keyring(harness)
    assert set(after.kids()) == set(before.kids()) | {after.active.kid}
    assert after.active.kid != before.active.kid


async def test_another_apps_sidecar_is_forbidden_the_keys(harness: h.Harness) -> None:
    async with harness.client.get(
        f"{harness.url}/v1/apps/team-a/shop/keys", headers=h.OTHER_SIDECAR
    ) as response:
        assert response.status == 403
        problem = await h.problem_of(response)
    assert problem["code"] == "forbidden"
    assert "team-a/blog" in problem["detail"]


async def test_even_an_admin_is_forbidden_the_keys(harness: h.Harness) -> None:
    async with harness.client.get(
        f"{harness.url}/v1/apps/team-a/shop/keys", headers=h.ADMIN
    ) as response:
        assert response.status == 403


async def test_an_app_without_keys_is_not_found(harness: h.Harness) -> None:
    async with harness.client.get(
        f"{harness.url}/v1/apps/team-a/blog/keys", headers=h.OTHER_SIDECAR
    ) as response:
        assert response.status == 404
        problem = await h.problem_of(response)
    assert "team-a/blog" in problem["detail"]


async def test_a_new_root_key_saved_elsewhere_is_picked_up(harness: h.Harness) -> None:
    """A root rotation in another process: the App document names a root key this key
    service has not loaded yet, so it reloads the root keyring."""
    before = await fetch_keyring(harness)
    root = await harness.root_store.load()
    new_root = root.with_key(keys.DataKey.generate(), activate=True)
    await harness.root_store.save(new_root)
    document = await harness.storage.get_document("team-a", "shop", "keys")
    assert document is not None
    rewrapped = appkeys.rewrap_app_keys(new_root, document.body, "team-a", "shop")
    await harness.storage.put_document("team-a", "shop", "keys", rewrapped, document.version)
    after = await fetch_keyring(harness)
    assert after.active == before.active


async def test_key_material_never_reaches_a_log_record(
    harness: h.Harness, caplog: pytest.LogCaptureFixture
) -> None:
    keyring = await harness.key_service.app_keys("team-a", "shop")
    material = keyring.active.material
    secret_forms = [base64.b64encode(material).decode(), material.hex()]
    for form in secret_forms:
        canary.register(form)
    with caplog.at_level(logging.DEBUG):
        await fetch_keyring(harness)
        async with harness.client.get(
            f"{harness.url}/v1/apps/team-a/shop/keys", headers=h.OTHER_SIDECAR
        ) as response:
            assert response.status == 403
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged  # the access log did record the requests
    assert not any(form in logged for form in secret_forms)
    assert h.SIDECAR_TOKEN not in logged


async def test_ensuring_app_keys_twice_and_concurrently_keeps_one_keyring(
    harness: h.Harness,
) -> None:
    first, second, third = await asyncio.gather(
        harness.key_service.ensure_app_keys("team-b", "api"),
        harness.key_service.ensure_app_keys("team-b", "api"),
        harness.key_service.ensure_app_keys("team-b", "api"),
    )
    assert first.active == second.active == third.active
    again = await harness.key_service.ensure_app_keys("team-b", "api")
    assert again.active == first.active
    assert "material" not in repr(harness.key_service)


def test_a_sidecar_caller_must_name_its_app() -> None:
    with pytest.raises(ValueError, match="namespace and an app"):
        auth.Caller("sidecar", "pod-without-app")
