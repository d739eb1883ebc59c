"""App keys documents (wrapped by the root keyring) and the root keys document and file store."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from strongroom_core.sealing import appkeys, errors, keys, rootkeys


def test_app_keys_document_unwraps_with_the_root_keyring(root: keys.Keyring) -> None:
    document = appkeys.new_app_keys_document(root, "team-a", "shop")
    assert document["format"] == "strongroom.app-keys/v1"
    entry = document["keys"][0]
    assert set(entry) == {"kid", "rootKid", "wrapped", "created"}
    assert entry["rootKid"] == root.active.kid
    ring = appkeys.unwrap_app_keys(root, document, "team-a", "shop")
    assert ring.kids() == [document["active"]]
    assert json.loads(json.dumps(document)) == document


def test_app_keys_document_holds_no_plain_key_material(root: keys.Keyring) -> None:
    document = appkeys.new_app_keys_document(root, "team-a", "shop")
    ring = appkeys.unwrap_app_keys(root, document, "team-a", "shop")
    text = json.dumps(document)
    assert ring.active.material.hex() not in text
    assert rootkeys.root_keyring_to_document(ring)["keys"][0]["key"] not in text


@pytest.mark.parametrize(("namespace", "app"), [("team-a", "other"), ("team-b", "shop")])
def test_wrapped_app_key_copied_to_another_app_fails(
    root: keys.Keyring, namespace: str, app: str
) -> None:
    document = appkeys.new_app_keys_document(root, "team-a", "shop")
    with pytest.raises(errors.TamperedError):
        appkeys.unwrap_app_keys(root, document, namespace, app)


def test_wrapped_app_key_relabelled_with_another_kid_fails(root: keys.Keyring) -> None:
    document = appkeys.add_app_key(
        root, appkeys.new_app_keys_document(root, "team-a", "shop"), "team-a", "shop"
    )
    first, second = document["keys"]
    first["wrapped"], second["wrapped"] = second["wrapped"], first["wrapped"]
    with pytest.raises(errors.TamperedError):
        appkeys.unwrap_app_keys(root, document, "team-a", "shop")


def test_adding_an_app_key_activates_it_and_keeps_the_old_one(root: keys.Keyring) -> None:
    document = appkeys.new_app_keys_document(root, "team-a", "shop")
    old = document["active"]
    added = appkeys.add_app_key(root, document, "team-a", "shop")
    assert added["active"] != old
    assert appkeys.app_kids(added) == [old, added["active"]]
    assert appkeys.unwrap_app_keys(root, added, "team-a", "shop").active.kid == added["active"]


def test_rewrap_moves_every_app_key_under_the_active_root_key(root: keys.Keyring) -> None:
    document = appkeys.new_app_keys_document(root, "team-a", "shop")
    before = appkeys.unwrap_app_keys(root, document, "team-a", "shop")
    new_root = root.with_key(keys.DataKey.generate())
    rewrapped = appkeys.rewrap_app_keys(new_root, document, "team-a", "shop")
    assert appkeys.root_kids(rewrapped) == {new_root.active.kid}
    only_new = keys.Keyring([new_root.active], new_root.active.kid)
    assert appkeys.unwrap_app_keys(only_new, rewrapped, "team-a", "shop") == before
    assert appkeys.rewrap_app_keys(new_root, rewrapped, "team-a", "shop") == rewrapped


def test_unwrap_with_a_stale_root_keyring_names_the_missing_root_kid(root: keys.Keyring) -> None:
    new_root = keys.DataKey.generate()
    document = appkeys.new_app_keys_document(keys.Keyring([new_root], new_root.kid), "n", "a")
    with pytest.raises(errors.UnknownKeyError) as caught:
        appkeys.unwrap_app_keys(root, document, "n", "a")
    assert caught.value.kid == new_root.kid


def test_drop_app_key_refuses_the_active_key_and_unknown_kids(root: keys.Keyring) -> None:
    document = appkeys.add_app_key(root, appkeys.new_app_keys_document(root, "n", "a"), "n", "a")
    old, active = appkeys.app_kids(document)
    assert appkeys.app_kids(appkeys.drop_app_key(document, old)) == [active]
    with pytest.raises(ValueError, match="active"):
        appkeys.drop_app_key(document, active)
    with pytest.raises(errors.UnknownKeyError):
        appkeys.drop_app_key(document, "missing")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d.update(active="nope"), "active"),
        (lambda d: d.update(keys=[]), "keys"),
        (lambda d: d["keys"][0].pop("wrapped"), "wrapped"),
        (lambda d: d["keys"][0].update(kid="bad kid"), "keys[0].kid"),
        (lambda d: d["keys"][0].update(rootKid="someoneelse"), "rootKid"),
        (lambda d: d["keys"].append(dict(d["keys"][0])), "unique"),
    ],
)
def test_malformed_app_keys_document_names_the_field(
    root: keys.Keyring, mutate: object, field: str
) -> None:
    document = appkeys.new_app_keys_document(root, "n", "a")
    mutate(document)  # type: ignore[operator]
    with pytest.raises(errors.MalformedKeyDocumentError, match=field.replace("[", r"\[")):
        appkeys.unwrap_app_keys(root, document, "n", "a")


def test_root_keyring_document_round_trips(root: keys.Keyring) -> None:
    ring = root.with_key(keys.DataKey.generate(), activate=False)
    document = rootkeys.root_keyring_to_document(ring)
    assert document["format"] == "strongroom.root-keys/v1"
    assert document["active"] == root.active.kid
    assert {"kid", "key", "created"} == set(document["keys"][0])
    assert rootkeys.root_keyring_from_document(json.loads(json.dumps(document))) == ring


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(format="strongroom.root-keys/v0"), "format"),
        (lambda d: d.update(active=None), "active"),
        (lambda d: d["keys"][0].update(key="not base64!"), r"keys\[0\].key"),
        (lambda d: d["keys"][0].update(key="AAAA"), r"keys\[0\].key"),
        (lambda d: d["keys"][0].update(created="yesterday"), "created"),
    ],
)
def test_malformed_root_keys_document_names_the_field_not_the_value(
    root: keys.Keyring, mutate: object, field: str
) -> None:
    document = rootkeys.root_keyring_to_document(root)
    material = document["keys"][0]["key"]
    mutate(document)  # type: ignore[operator]
    with pytest.raises(errors.MalformedKeyDocumentError, match=field) as caught:
        rootkeys.root_keyring_from_document(document)
    assert material not in str(caught.value)


def test_root_keys_document_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(errors.MalformedKeyDocumentError, match="JSON object"):
        rootkeys.root_keyring_from_document(["keys"])


async def test_file_root_key_store_round_trips_with_mode_0600(
    tmp_path: Path, root: keys.Keyring
) -> None:
    store = rootkeys.FileRootKeyStore(tmp_path / "state" / "root-keys.json")
    await store.save(root)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert await store.load() == root
    assert json.loads(store.path.read_text())["format"] == "strongroom.root-keys/v1"
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["root-keys.json"]


async def test_file_root_key_store_replaces_the_file_and_tightens_its_mode(
    tmp_path: Path, root: keys.Keyring
) -> None:
    path = tmp_path / "root-keys.json"
    path.write_text("{}")
    path.chmod(0o644)
    store = rootkeys.FileRootKeyStore(path)
    rotated = root.with_key(keys.DataKey.generate())
    await store.save(rotated)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert await store.load() == rotated


async def test_file_root_key_store_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(rootkeys.RootKeysMissingError, match="no root keys file"):
        await rootkeys.FileRootKeyStore(tmp_path / "absent.json").load()


async def test_load_or_create_creates_once_then_loads(tmp_path: Path) -> None:
    store = rootkeys.FileRootKeyStore(tmp_path / "root-keys.json")
    created = await rootkeys.load_or_create(store)
    assert await rootkeys.load_or_create(store) == created


async def test_file_root_key_store_refuses_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "root-keys.json"
    path.write_text("not json")
    with pytest.raises(errors.MalformedKeyDocumentError, match="backup"):
        await rootkeys.FileRootKeyStore(path).load()
