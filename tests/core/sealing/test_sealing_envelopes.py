"""AES-256-GCM envelopes and their bindings."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom_core.sealing import bindings, encoding, envelopes, errors, keys
from tests import canary

BINDING = bindings.GrantBinding(
    namespace="team-a",
    grant="github-alice",
    grant_uid="5f0c1e2a",
    app="shop",
    provider="github",
    principal="user:alice",
)


@pytest.fixture
def ring() -> keys.Keyring:
    key = keys.DataKey.generate()
    return keys.Keyring([key], key.kid)


def test_sealed_value_opens_with_the_same_binding(ring: keys.Keyring) -> None:
    secret = canary.new().encode()
    blob = envelopes.seal(ring.active, secret, BINDING.associated_data())
    assert envelopes.open_envelope(ring, blob, BINDING.associated_data()) == secret


def test_envelope_names_format_and_key_id_and_hides_plaintext(ring: keys.Keyring) -> None:
    secret = canary.new()
    blob = envelopes.seal(ring.active, secret.encode(), BINDING.associated_data())
    version, kid, _nonce, _ciphertext = blob.split(".")
    assert (version, kid) == ("sr1", ring.active.kid)
    assert envelopes.key_id(blob) == ring.active.kid
    assert secret not in blob


def test_two_seals_of_one_value_use_different_nonces(ring: keys.Keyring) -> None:
    aad = BINDING.associated_data()
    first, second = (envelopes.seal(ring.active, b"same", aad) for _ in range(2))
    assert first.split(".")[2] != second.split(".")[2]


@pytest.mark.parametrize(
    "field", ["namespace", "grant", "grant_uid", "app", "provider", "principal"]
)
def test_blob_moved_to_another_binding_fails_as_tampered(ring: keys.Keyring, field: str) -> None:
    blob = envelopes.seal(ring.active, b"credential", BINDING.associated_data())
    moved = dataclasses.replace(BINDING, **{field: "moved-elsewhere"})
    with pytest.raises(errors.TamperedError) as caught:
        envelopes.open_envelope(ring, blob, moved.associated_data())
    assert "moved-elsewhere" not in str(caught.value)


def test_tampered_error_message_does_not_reveal_which_field_differed(ring: keys.Keyring) -> None:
    blob = envelopes.seal(ring.active, b"credential", BINDING.associated_data())
    messages = {
        str(_tampered(ring, blob, dataclasses.replace(BINDING, **{field: "x"})))
        for field in ("namespace", "grant", "grant_uid", "app", "provider", "principal")
    }
    assert len(messages) == 1


def _tampered(
    ring: keys.Keyring, blob: str, binding: bindings.GrantBinding
) -> errors.TamperedError:
    with pytest.raises(errors.TamperedError) as caught:
        envelopes.open_envelope(ring, blob, binding.associated_data())
    return caught.value


def test_binding_fields_cannot_bleed_into_each_other() -> None:
    a = dataclasses.replace(BINDING, grant="a.b", app="c")
    b = dataclasses.replace(BINDING, grant="a", app="b.c")
    assert a.associated_data() != b.associated_data()


def test_binding_kinds_never_share_associated_data() -> None:
    client = bindings.ClientSealBinding(namespace="n", grant="g", provider="p")
    app_key = bindings.AppKeyBinding(namespace="n", app="g", kid="p")
    assert client.associated_data() != app_key.associated_data()


def _flip_last_data_char(text: str) -> str:
    data = encoding.b64url_decode(text)
    assert data is not None
    changed = bytes([data[0] ^ 1]) + data[1:]
    return encoding.b64url_encode(changed)


@pytest.mark.parametrize("part", [2, 3])
def test_altered_nonce_or_ciphertext_fails_as_tampered(ring: keys.Keyring, part: int) -> None:
    blob = envelopes.seal(ring.active, b"credential", BINDING.associated_data())
    parts = blob.split(".")
    parts[part] = _flip_last_data_char(parts[part])
    with pytest.raises(errors.TamperedError):
        envelopes.open_envelope(ring, ".".join(parts), BINDING.associated_data())


def test_envelope_relabelled_with_another_known_key_id_fails_as_tampered() -> None:
    first, second = keys.DataKey.generate(), keys.DataKey.generate()
    ring = keys.Keyring([first, second], first.kid)
    blob = envelopes.seal(first, b"credential", BINDING.associated_data())
    relabelled = blob.replace(first.kid, second.kid, 1)
    with pytest.raises(errors.TamperedError):
        envelopes.open_envelope(ring, relabelled, BINDING.associated_data())


def test_envelope_relabelled_with_the_same_material_under_another_id_fails() -> None:
    material = keys.DataKey.generate().material
    first, alias = keys.DataKey("firstkid", material), keys.DataKey("aliaskid", material)
    ring = keys.Keyring([first, alias], first.kid)
    blob = envelopes.seal(first, b"credential", BINDING.associated_data())
    with pytest.raises(errors.TamperedError):
        envelopes.open_envelope(
            ring, blob.replace("firstkid", "aliaskid"), BINDING.associated_data()
        )


def test_non_canonical_base64_is_refused_rather_than_opened(ring: keys.Keyring) -> None:
    blob = envelopes.seal(ring.active, b"credential", BINDING.associated_data())
    parts = blob.split(".")
    # 12 nonce bytes are exactly 16 characters: no spare bits, so pad the ciphertext instead.
    parts[3] = parts[3] + "="
    with pytest.raises(errors.MalformedEnvelopeError):
        envelopes.open_envelope(ring, ".".join(parts), BINDING.associated_data())


def test_unknown_key_id_raises_unknown_key_error_carrying_the_kid(ring: keys.Keyring) -> None:
    other = keys.DataKey.generate()
    blob = envelopes.seal(other, b"credential", BINDING.associated_data())
    with pytest.raises(errors.UnknownKeyError) as caught:
        envelopes.open_envelope(ring, blob, BINDING.associated_data())
    assert caught.value.kid == other.kid
    assert other.kid in str(caught.value)
    assert other.material.hex() not in str(caught.value)


@pytest.mark.parametrize(
    "blob",
    [
        "",
        "plaintext-token-pasted-here",
        "sr1.kid.nonce",
        "sr2.abc.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
        "sr1.a b.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
        "sr1.abc.AAAA.AAAAAAAAAAAAAAAAAAAAAA",
        "sr1.abc.AAAAAAAAAAAAAAAA.AAAA",
        "sr1.abc.AAAAAAAAAAAAAAA!.AAAAAAAAAAAAAAAAAAAAAA",
        "sr1.abc.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.extra",
    ],
)
def test_malformed_envelopes_raise_malformed_envelope_error(ring: keys.Keyring, blob: str) -> None:
    with pytest.raises(errors.MalformedEnvelopeError):
        envelopes.open_envelope(ring, blob, BINDING.associated_data())


def test_malformed_error_never_echoes_the_value(ring: keys.Keyring) -> None:
    pasted = canary.new("ghp")
    with pytest.raises(errors.MalformedEnvelopeError) as caught:
        envelopes.open_envelope(ring, pasted, BINDING.associated_data())
    assert not canary.found_in(str(caught.value))


@given(st.text())
def test_random_strings_only_ever_raise_sealing_errors(blob: str) -> None:
    key = keys.DataKey("fixedkid", bytes(32))
    ring = keys.Keyring([key], key.kid)
    with pytest.raises(errors.SealingError):
        envelopes.open_envelope(ring, blob, b"aad")


@given(
    st.lists(
        st.one_of(st.sampled_from(["sr1", "fixedkid", "AAAAAAAAAAAAAAAA", ""]), st.text()),
        min_size=1,
        max_size=6,
    )
)
def test_near_envelopes_only_ever_raise_sealing_errors(parts: list[str]) -> None:
    key = keys.DataKey("fixedkid", bytes(32))
    ring = keys.Keyring([key], key.kid)
    with pytest.raises(errors.SealingError):
        envelopes.open_envelope(ring, ".".join(parts), b"aad")
