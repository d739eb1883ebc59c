"""Key rotation over the real SQLite storage: no grant is unreadable at any moment."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from strongroom_core.sealing import (
    appkeys,
    credentials,
    envelopes,
    errors,
    keys,
    rootkeys,
    rotation,
)
from strongroom_core.storage import errors as storage_errors
from strongroom_core.storage import records, sqlite
from tests import canary
from tests.core.sealing import factories

NS, APP = factories.NAMESPACE, factories.APP


class Interfering:
    """The real storage with hooks that run just before a write: a stand-in for another
    writer (a sidecar's refresh write-back, the operator) acting between rotation's read and its
    compare-and-swap."""

    def __init__(self, inner: sqlite.SqliteStorage) -> None:
        self.inner = inner
        self.before_replace: Callable[[records.GrantRecord], Awaitable[None]] | None = None
        self.before_put: Callable[[dict[str, Any]], Awaitable[None]] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def replace_grant(
        self, record: records.GrantRecord, expected_version: int
    ) -> records.GrantRecord:
        hook, self.before_replace = self.before_replace, None
        if hook is not None:
            await hook(record)
        return await self.inner.replace_grant(record, expected_version)

    async def put_document(
        self, namespace: str, app: str, name: str, body: dict[str, Any], expected: int | None
    ) -> records.StoredDocument:
        hook, self.before_put = self.before_put, None
        if hook is not None:
            await hook(body)
        return await self.inner.put_document(namespace, app, name, body, expected)


class Unlisting(Interfering):
    """A storage without ``list_documents`` (the port does not require it)."""

    def __getattr__(self, name: str) -> Any:
        if name == "list_documents":
            raise AttributeError(name)
        return super().__getattr__(name)


async def reader_keyring(
    storage: Any, root: keys.Keyring, app: str = APP, namespace: str = NS
) -> keys.Keyring:
    """The App keyring a sidecar would get from key release right now."""
    stored = await storage.get_document(namespace, app, "keys")
    assert stored is not None
    return appkeys.unwrap_app_keys(root, stored.body, namespace, app)


async def assert_all_readable(
    storage: Any, ring: keys.Keyring, expected: dict[str, dict[str, str]], app: str = APP
) -> None:
    grants = await storage.list_grants(NS, app)
    assert {g.name for g in grants} == set(expected)
    for grant in grants:
        assert credentials.open_grant_credential(ring, grant) == expected[grant.name]


async def test_app_key_rotation_keeps_every_grant_readable_at_every_step(
    storage: sqlite.SqliteStorage, root: keys.Keyring
) -> None:
    expected = await factories.setup_app(storage, root, grants=5)
    old_kid = (await reader_keyring(storage, root)).active.kid
    steps: list[tuple[int, int, str]] = []

    async def check(done: int, total: int, what: str) -> None:
        steps.append((done, total, what))
        await assert_all_readable(storage, await reader_keyring(storage, root), expected)

    await assert_all_readable(storage, await reader_keyring(storage, root), expected)
    result = await rotation.rotate_app_key(storage, root, NS, APP, check)

    assert [s[0] for s in steps] == list(range(1, 8))
    assert {s[1] for s in steps} == {7}
    assert result.resealed == 5
    assert result.dropped == (old_kid,)
    assert result.retained == ()
    ring = await reader_keyring(storage, root)
    assert ring.kids() == [result.new_kid]
    for grant in await storage.list_grants(NS, APP):
        assert envelopes.key_id(grant.sealed) == result.new_kid
    await assert_all_readable(storage, ring, expected)


async def test_progress_messages_hold_no_key_material_or_credentials(
    storage: sqlite.SqliteStorage, root: keys.Keyring
) -> None:
    await factories.setup_app(storage, root, grants=2)
    messages: list[str] = []
    await rotation.rotate_app_key(storage, root, NS, APP, lambda d, t, w: messages.append(w))
    ring = await reader_keyring(storage, root)
    text = "\n".join(messages)
    assert messages
    assert not canary.found_in(text)
    assert ring.active.material.hex() not in text


async def test_a_reader_with_keys_from_before_rotation_learns_to_refetch(
    storage: sqlite.SqliteStorage, root: keys.Keyring
) -> None:
    expected = await factories.setup_app(storage, root, grants=1)
    stale = await reader_keyring(storage, root)
    result = await rotation.rotate_app_key(storage, root, NS, APP)
    (grant,) = await storage.list_grants(NS, APP)
    with pytest.raises(errors.UnknownKeyError) as caught:
        credentials.open_grant_credential(stale, grant)
    assert caught.value.kid == result.new_kid
    fresh = await reader_keyring(storage, root)
    assert credentials.open_grant_credential(fresh, grant) == expected[grant.name]


@pytest.mark.parametrize("writer_has_new_keys", [False, True])
async def test_refresh_written_between_list_and_swap_is_not_lost(
    storage: sqlite.SqliteStorage, root: keys.Keyring, writer_has_new_keys: bool
) -> None:
    expected = await factories.setup_app(storage, root, grants=3)
    interfering = Interfering(storage)
    stale = await reader_keyring(storage, root)

    async def refresh_first(record: records.GrantRecord) -> None:
        # A sidecar refreshes this grant just before rotation's compare-and-swap lands.
        current = await storage.get_grant(NS, record.name)
        assert current is not None
        ring = await reader_keyring(storage, root) if writer_has_new_keys else stale
        refreshed = {"token": canary.new("refreshed")}
        sealed = credentials.seal_for_record(ring.active, current, refreshed)
        await storage.replace_grant(
            dataclasses.replace(current, sealed=sealed, generation=current.generation + 1),
            current.version,
        )
        expected[record.name] = refreshed

    interfering.before_replace = refresh_first

    async def check(done: int, total: int, what: str) -> None:
        await assert_all_readable(storage, await reader_keyring(storage, root), expected)

    result = await rotation.rotate_app_key(interfering, root, NS, APP, check)

    ring = await reader_keyring(storage, root)
    assert ring.kids() == [result.new_kid]
    await assert_all_readable(storage, ring, expected)
    refreshed = [g for g in await storage.list_grants(NS, APP) if g.generation == 2]
    assert len(refreshed) == 1
    assert envelopes.key_id(refreshed[0].sealed) == result.new_kid


async def test_grant_deleted_between_list_and_swap_is_skipped(
    storage: sqlite.SqliteStorage, root: keys.Keyring
) -> None:
    expected = await factories.setup_app(storage, root, grants=2)
    interfering = Interfering(storage)

    async def delete_first(record: records.GrantRecord) -> None:
        await storage.delete_grant(NS, record.name)
        del expected[record.name]

    interfering.before_replace = delete_first
    result = await rotation.rotate_app_key(interfering, root, NS, APP)
    assert result.resealed == 1
    await assert_all_readable(storage, await reader_keyring(storage, root), expected)


async def test_rotation_waits_for_a_held_refresh_claim_and_never_breaks_its_write_back(
    storage: sqlite.SqliteStorage, root: keys.Keyring
) -> None:
    expected = await factories.setup_app(storage, root, grants=2)
    claimed_name = sorted(expected)[0]
    stale = await reader_keyring(storage, root)  # the claimant's keys, fetched before rotation
    current = await storage.get_grant(NS, claimed_name)
    assert current is not None
    claimed = await storage.replace_grant(
        dataclasses.replace(current, claim_holder="sidecar-1", claim_expires_at=4e9),
        current.version,
    )
    others_done = asyncio.Event()

    def progress(done: int, total: int, what: str) -> None:
        if done == total - 2:  # the new key and the unclaimed grant
            others_done.set()

    task = asyncio.create_task(
        rotation.rotate_app_key(storage, root, NS, APP, progress, claim_poll_seconds=0.01)
    )
    try:
        await asyncio.wait_for(others_done.wait(), timeout=30)
        await asyncio.sleep(0.05)  # rotation is polling the claim now
        untouched = await storage.get_grant(NS, claimed_name)
        assert untouched is not None
        assert untouched.version == claimed.version  # rotation left the claimed grant alone
        refreshed = {"token": canary.new("refreshed")}
        await storage.replace_grant(  # the refresher's fenced write-back succeeds
            dataclasses.replace(
                claimed,
                sealed=credentials.seal_for_record(stale.active, claimed, refreshed),
                claim_holder=None,
                claim_expires_at=None,
            ),
            claimed.version,
        )
        expected[claimed_name] = refreshed
        result = await asyncio.wait_for(task, timeout=30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert result.resealed == 2
    ring = await reader_keyring(storage, root)
    assert ring.kids() == [result.new_kid]
    await assert_all_readable(storage, ring, expected)


async def test_an_expired_claim_does_not_hold_rotation_up(
    storage: sqlite.SqliteStorage, root: keys.Keyring
) -> None:
    expected = await factories.setup_app(storage, root, grants=1)
    (grant,) = await storage.list_grants(NS, APP)
    await storage.replace_grant(
        dataclasses.replace(grant, claim_holder="gone-pod", claim_expires_at=100.0),
        grant.version,
    )
    result = await rotation.rotate_app_key(storage, root, NS, APP, clock=lambda: 200.0)
    assert result.resealed == 1
    await assert_all_readable(storage, await reader_keyring(storage, root), expected)


async def test_old_app_key_used_by_a_late_writer_is_kept_then_dropped_after_resealing(
    storage: sqlite.SqliteStorage, root: keys.Keyring
) -> None:
    expected = await factories.setup_app(storage, root, grants=2)
    stale = await reader_keyring(storage, root)
    interfering = Interfering(storage)
    puts = 0

    async def late_writer(body: dict[str, Any]) -> None:
        # Runs before the first keys-document write, i.e. adding the key: re-arm for the drop.
        nonlocal puts
        puts += 1
        if puts == 1:
            interfering.before_put = late_writer
            return
        # The drop is about to land: a sidecar with keys from before writes with the old key.
        name = sorted(expected)[0]
        current = await storage.get_grant(NS, name)
        assert current is not None
        refreshed = {"token": canary.new("late")}
        await storage.replace_grant(
            dataclasses.replace(
                current, sealed=credentials.seal_for_record(stale.active, current, refreshed)
            ),
            current.version,
        )
        expected[name] = refreshed

    interfering.before_put = late_writer

    async def check(done: int, total: int, what: str) -> None:
        await assert_all_readable(storage, await reader_keyring(storage, root), expected)

    result = await rotation.rotate_app_key(interfering, root, NS, APP, check)

    assert result.dropped == (stale.active.kid,)
    ring = await reader_keyring(storage, root)
    assert ring.kids() == [result.new_kid]
    await assert_all_readable(storage, ring, expected)


async def test_drop_unused_app_keys_puts_back_a_key_a_late_writer_used(
    storage: sqlite.SqliteStorage, root: keys.Keyring
) -> None:
    expected = await factories.setup_app(storage, root, grants=1)
    old = await reader_keyring(storage, root)
    stored = await storage.get_document(NS, APP, "keys")
    assert stored is not None
    await storage.put_document(
        NS, APP, "keys", appkeys.add_app_key(root, stored.body, NS, APP), stored.version
    )
    interfering = Interfering(storage)

    async def late_writer(body: dict[str, Any]) -> None:
        (grant,) = await storage.list_grants(NS, APP)
        expected[grant.name] = {"token": canary.new("late")}
        sealed = credentials.seal_for_record(old.active, grant, expected[grant.name])
        await storage.replace_grant(dataclasses.replace(grant, sealed=sealed), grant.version)

    # The grant is re-sealed with the new key first, so the old key looks unused.
    ring = await reader_keyring(storage, root)
    (grant,) = await storage.list_grants(NS, APP)
    resealed = credentials.seal_for_record(ring.active, grant, expected[grant.name])
    await storage.replace_grant(dataclasses.replace(grant, sealed=resealed), grant.version)
    interfering.before_put = late_writer

    dropped = await rotation.drop_unused_app_keys(interfering, NS, APP)

    assert dropped == []
    ring = await reader_keyring(storage, root)
    assert old.active.kid in ring
    await assert_all_readable(storage, ring, expected)


async def test_drop_unused_app_keys_keeps_keys_grants_still_name(
    storage: sqlite.SqliteStorage, root: keys.Keyring
) -> None:
    await factories.setup_app(storage, root, grants=1)
    old = (await reader_keyring(storage, root)).active.kid
    stored = await storage.get_document(NS, APP, "keys")
    assert stored is not None
    await storage.put_document(
        NS, APP, "keys", appkeys.add_app_key(root, stored.body, NS, APP), stored.version
    )
    assert await rotation.drop_unused_app_keys(storage, NS, APP) == []
    assert old in await reader_keyring(storage, root)
    assert await rotation.drop_unused_app_keys(storage, NS, "no-such-app") == []


async def test_unreadable_grant_is_reported_and_its_key_kept(
    storage: sqlite.SqliteStorage, root: keys.Keyring
) -> None:
    expected = await factories.setup_app(storage, root, grants=2)
    broken_name = sorted(expected)[0]
    broken = await storage.get_grant(NS, broken_name)
    assert broken is not None
    other = dataclasses.replace(broken, uid="someone-else")  # sealed for another uid
    ring = await reader_keyring(storage, root)
    misbound = credentials.seal_for_record(ring.active, other, {"token": "x" * 8})
    await storage.replace_grant(dataclasses.replace(broken, sealed=misbound), broken.version)

    result = await rotation.rotate_app_key(storage, root, NS, APP)

    assert result.unreadable == (broken_name,)
    assert result.retained == (ring.active.kid,)
    assert result.dropped == ()
    del expected[broken_name]
    fresh = await reader_keyring(storage, root)
    (good,) = [g for g in await storage.list_grants(NS, APP) if g.name != broken_name]
    assert credentials.open_grant_credential(fresh, good) == expected[good.name]


async def test_rotating_an_app_without_keys_document_says_so(
    storage: sqlite.SqliteStorage, root: keys.Keyring
) -> None:
    with pytest.raises(storage_errors.NotFoundError, match="team-a/ghost"):
        await rotation.rotate_app_key(storage, root, NS, "ghost")


async def test_root_key_rotation_keeps_every_grant_readable_at_every_step(
    storage: sqlite.SqliteStorage, root: keys.Keyring, root_store: rootkeys.FileRootKeyStore
) -> None:
    apps = ["shop", "billing"]
    expected = {app: await factories.setup_app(storage, root, grants=2, app=app) for app in apps}
    steps: list[int] = []

    async def check(done: int, total: int, what: str) -> None:
        steps.append(done)
        current_root = await root_store.load()  # what a control plane replica would load now
        for app in apps:
            ring = await reader_keyring(storage, current_root, app=app)
            await assert_all_readable(storage, ring, expected[app], app=app)

    result = await rotation.rotate_root_key(
        storage, root_store, check, apps=[(NS, app) for app in apps]
    )

    assert steps == [1, 2, 3, 4]
    assert result.rewrapped == 2
    assert result.retired == (root.active.kid,)
    assert result.retained == ()
    final = await root_store.load()
    assert final.kids() == [result.new_kid]
    for app in apps:
        stored = await storage.get_document(NS, app, "keys")
        assert stored is not None
        assert appkeys.root_kids(stored.body) == {result.new_kid}


async def test_root_key_rotation_lists_apps_from_a_storage_that_can(
    storage: sqlite.SqliteStorage, root: keys.Keyring, root_store: rootkeys.FileRootKeyStore
) -> None:
    expected = await factories.setup_app(storage, root, grants=1)
    assert isinstance(storage, rotation.DocumentLister)
    result = await rotation.rotate_root_key(storage, root_store)
    assert result.retired == (root.active.kid,)
    new_root = await root_store.load()
    await assert_all_readable(storage, await reader_keyring(storage, new_root), expected)


async def test_root_key_rotation_without_a_list_of_apps_refuses_to_guess(
    storage: sqlite.SqliteStorage, root_store: rootkeys.FileRootKeyStore
) -> None:
    with pytest.raises(TypeError, match="apps="):
        await rotation.rotate_root_key(Unlisting(storage), root_store)


async def test_root_key_still_referenced_by_an_app_document_is_not_retired(
    storage: sqlite.SqliteStorage, root: keys.Keyring, root_store: rootkeys.FileRootKeyStore
) -> None:
    expected = await factories.setup_app(storage, root, grants=1, app="shop")
    await factories.setup_app(storage, root, grants=1, app="forgotten")
    # Rotation told about one App only: the other App's document still uses the old root key.
    result = await rotation.rotate_root_key(
        Unlisting(storage),
        root_store,
        apps=[(NS, "shop")],
    )
    assert result.retired == (root.active.kid,)  # told about one App, it could not know
    # With every App named, a root key still referenced stays: put it back and re-check.
    await root_store.save((await root_store.load()).with_key(root.active, activate=False))
    retired = await rotation.retire_unused_root_keys(
        storage, root_store, apps=[(NS, "shop"), (NS, "forgotten")]
    )
    assert retired == []
    final = await root_store.load()
    assert root.active.kid in final
    await assert_all_readable(storage, await reader_keyring(storage, final), expected)


async def test_root_key_used_by_a_late_app_document_is_put_back(
    storage: sqlite.SqliteStorage, root: keys.Keyring, root_store: rootkeys.FileRootKeyStore
) -> None:
    await factories.setup_app(storage, root, grants=1)
    new_root = root.with_key(keys.DataKey.generate())
    await root_store.save(new_root)
    stored = await storage.get_document(NS, APP, "keys")
    assert stored is not None
    await storage.put_document(
        NS, APP, "keys", appkeys.rewrap_app_keys(new_root, stored.body, NS, APP), stored.version
    )

    class LateOperator:
        """Saves the trimmed keyring, then an operator with the old root creates an App."""

        def __init__(self) -> None:
            self.saved = 0

        async def load(self) -> keys.Keyring:
            return await root_store.load()

        async def save(self, keyring: keys.Keyring) -> None:
            await root_store.save(keyring)
            self.saved += 1
            if self.saved == 1:
                document = appkeys.new_app_keys_document(root, NS, "late")
                await storage.put_document(NS, "late", "keys", document, None)

    # The late App is not named: the storage's listing must find it when re-checking.
    retired = await rotation.retire_unused_root_keys(storage, LateOperator(), apps=[(NS, APP)])
    assert retired == []
    final = await root_store.load()
    assert root.active.kid in final
    assert final.active.kid == new_root.active.kid
    late = await storage.get_document(NS, "late", "keys")
    assert late is not None
    appkeys.unwrap_app_keys(final, late.body, NS, "late")


async def test_an_app_key_still_sealing_a_client_secret_in_the_policy_is_kept(
    tmp_path: Path,
) -> None:
    from strongroom_core.sealing import appkeys, providersecrets, rootkeys
    from strongroom_core.storage import sqlite

    storage = sqlite.SqliteStorage(tmp_path / "db.sqlite3")
    await storage.open()
    try:
        root = rootkeys.new_root_keyring()
        document = appkeys.new_app_keys_document(root, "ns", "app")
        await storage.put_document("ns", "app", "keys", document, None)
        keyring = appkeys.unwrap_app_keys(root, document, "ns", "app")
        sealed = providersecrets.seal_client_secret(
            keyring.active, "client-secret-value", namespace="ns", app="app", provider="gh"
        )
        policy = {"providers": {"gh": {"oauth2": {"clientSecretSealed": sealed}}}}
        await storage.put_document("ns", "app", "policy", policy, None)
        old_kid = keyring.active.kid

        result = await rotation.rotate_app_key(storage, root, "ns", "app")

        assert old_kid in result.retained
        stored = await storage.get_document("ns", "app", "keys")
        assert stored is not None
        current = appkeys.unwrap_app_keys(root, stored.body, "ns", "app")
        opened = providersecrets.open_client_secret(
            current, sealed, namespace="ns", app="app", provider="gh"
        )
        assert opened == "client-secret-value"
    finally:
        await storage.close()
