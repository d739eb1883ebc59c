"""Data keys and keyrings."""

from __future__ import annotations

import re

import pytest

from strongroom_core.sealing import keys, publickey, rootkeys


def test_generated_key_ids_are_short_url_safe_and_random() -> None:
    kids = {keys.DataKey.generate().kid for _ in range(200)}
    assert len(kids) == 200
    assert all(re.fullmatch(r"[a-z2-7]{12}", kid) for kid in kids)


def test_key_id_is_not_derived_from_key_material() -> None:
    material = bytes(range(32))
    assert keys.DataKey(kid=keys.new_kid(), material=material).kid != keys.new_kid()


def test_data_key_repr_and_str_never_show_material() -> None:
    key = keys.DataKey.generate()
    for text in (repr(key), str(key), f"{key}", repr([key])):
        assert key.material.hex() not in text
        assert repr(key.material) not in text
        assert key.kid in text


def test_keyring_repr_never_shows_material() -> None:
    ring = rootkeys.new_root_keyring().with_key(keys.DataKey.generate())
    for text in (repr(ring), str(ring)):
        for key in ring:
            assert key.material.hex() not in text
            assert repr(key.material) not in text
            assert key.kid in text


def test_sealing_key_repr_never_shows_private_key() -> None:
    key = publickey.SealingKey.generate()
    private = key.to_document()["keys"][0]["key"]
    assert private not in repr(key)
    assert private not in str(key)


def test_data_key_refuses_material_that_is_not_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes") as caught:
        keys.DataKey(kid="abc", material=b"short-secret-material")
    assert "short-secret-material" not in str(caught.value)


def test_data_key_refuses_a_key_id_with_a_dot() -> None:
    with pytest.raises(ValueError, match="key id"):
        keys.DataKey(kid="a.b", material=bytes(32))


def test_keyring_seals_with_the_active_key_and_knows_all() -> None:
    first, second = keys.DataKey.generate(), keys.DataKey.generate()
    ring = keys.Keyring([first], first.kid).with_key(second)
    assert ring.active == second
    assert ring.kids() == [first.kid, second.kid]
    assert ring.get(first.kid) == first
    assert ring.get("nope") is None
    assert first.kid in ring
    assert len(ring) == 2


def test_keyring_with_key_without_activation_keeps_the_active_key() -> None:
    first, second = keys.DataKey.generate(), keys.DataKey.generate()
    ring = keys.Keyring([first], first.kid).with_key(second, activate=False)
    assert ring.active == first


def test_keyring_without_drops_a_key_but_never_the_active_one() -> None:
    first, second = keys.DataKey.generate(), keys.DataKey.generate()
    ring = keys.Keyring([first, second], second.kid)
    assert ring.without(first.kid).kids() == [second.kid]
    with pytest.raises(ValueError, match="active"):
        ring.without(second.kid)


def test_keyring_refuses_an_active_id_it_does_not_hold() -> None:
    with pytest.raises(ValueError, match="active key id"):
        keys.Keyring([keys.DataKey.generate()], "missing")


def test_keyring_refuses_two_different_keys_with_one_id() -> None:
    with pytest.raises(ValueError, match="share the key id"):
        keys.Keyring(
            [keys.DataKey("same", bytes(32)), keys.DataKey("same", bytes([1]) * 32)], "same"
        )
