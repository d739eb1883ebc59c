"""Client-side sealing to the control plane's public key."""

from __future__ import annotations

import dataclasses
import json

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

from strongroom_core.sealing import bindings, encoding, errors, publickey
from tests import canary

BINDING = bindings.ClientSealBinding(namespace="team-a", grant="stripe-ci", provider="stripe")
FUZZ_KEY = publickey.SealingKey.generate()


@pytest.fixture(scope="module")
def sealing_key() -> publickey.SealingKey:
    return publickey.SealingKey.generate()


def test_client_sealed_value_opens_with_the_private_key(sealing_key: publickey.SealingKey) -> None:
    secret = canary.new("sk_live").encode()
    blob = publickey.seal_to_public_key(sealing_key.public_pem(), secret, BINDING)
    assert blob.startswith(f"srs1.{sealing_key.kid}.")
    assert secret.decode() not in blob
    assert publickey.open_sealed(sealing_key, blob, BINDING) == secret


def test_public_pem_is_subject_public_key_info_with_the_kid_in_front(
    sealing_key: publickey.SealingKey,
) -> None:
    pem = sealing_key.public_pem()
    assert "-----BEGIN PUBLIC KEY-----" in pem
    serialization.load_pem_public_key(pem.encode())
    assert publickey.kid_from_pem(pem) == sealing_key.kid


def test_every_seal_uses_a_fresh_ephemeral_key(sealing_key: publickey.SealingKey) -> None:
    pem = sealing_key.public_pem()
    first, second = (publickey.seal_to_public_key(pem, b"x", BINDING) for _ in range(2))
    assert first.split(".")[2] != second.split(".")[2]


@pytest.mark.parametrize("field", ["namespace", "grant", "provider"])
def test_client_sealed_value_replayed_into_another_grant_or_provider_fails(
    sealing_key: publickey.SealingKey, field: str
) -> None:
    blob = publickey.seal_to_public_key(sealing_key.public_pem(), b"token", BINDING)
    with pytest.raises(errors.TamperedError):
        publickey.open_sealed(sealing_key, blob, dataclasses.replace(BINDING, **{field: "other"}))


@pytest.mark.parametrize("part", [2, 3, 4])
def test_altered_client_sealed_value_fails_as_tampered(
    sealing_key: publickey.SealingKey, part: int
) -> None:
    blob = publickey.seal_to_public_key(sealing_key.public_pem(), b"token", BINDING)
    parts = blob.split(".")
    data = encoding.b64url_decode(parts[part])
    assert data is not None
    parts[part] = encoding.b64url_encode(bytes([data[0] ^ 0x40]) + data[1:])
    with pytest.raises(errors.TamperedError):
        publickey.open_sealed(sealing_key, ".".join(parts), BINDING)


def test_low_order_ephemeral_key_fails_as_tampered(sealing_key: publickey.SealingKey) -> None:
    blob = publickey.seal_to_public_key(sealing_key.public_pem(), b"token", BINDING)
    parts = blob.split(".")
    parts[2] = encoding.b64url_encode(bytes(32))
    with pytest.raises(errors.TamperedError):
        publickey.open_sealed(sealing_key, ".".join(parts), BINDING)


def test_value_sealed_to_a_rotated_key_names_both_kids(sealing_key: publickey.SealingKey) -> None:
    old = publickey.SealingKey.generate()
    blob = publickey.seal_to_public_key(old.public_pem(), b"token", BINDING)
    with pytest.raises(errors.UnknownKeyError) as caught:
        publickey.open_sealed(sealing_key, blob, BINDING)
    assert caught.value.kid == old.kid
    assert old.kid in str(caught.value)
    assert sealing_key.kid in str(caught.value)
    assert "seal it again" in str(caught.value)


def test_sealing_key_document_round_trips(sealing_key: publickey.SealingKey) -> None:
    document = json.loads(json.dumps(sealing_key.to_document()))
    assert document["format"] == "strongroom.sealing-key/v1"
    assert document["active"] == sealing_key.kid
    loaded = publickey.SealingKey.from_document(document)
    assert loaded.kid == sealing_key.kid
    assert loaded.public_pem() == sealing_key.public_pem()
    blob = publickey.seal_to_public_key(sealing_key.public_pem(), b"token", BINDING)
    assert publickey.open_sealed(loaded, blob, BINDING) == b"token"


def test_malformed_sealing_key_document_names_the_field(sealing_key: publickey.SealingKey) -> None:
    document = sealing_key.to_document()
    private = document["keys"][0]["key"]
    document["keys"][0]["key"] = private[:-4]
    with pytest.raises(errors.MalformedKeyDocumentError, match=r"keys\[0\].key") as caught:
        publickey.SealingKey.from_document(document)
    assert private not in str(caught.value)


def test_explicit_kid_seals_to_a_bare_pem(sealing_key: publickey.SealingKey) -> None:
    bare = sealing_key.public_pem().split("\n", 1)[1]
    blob = publickey.seal_to_public_key(bare, b"token", BINDING, kid=sealing_key.kid)
    assert publickey.open_sealed(sealing_key, blob, BINDING) == b"token"


def test_bare_pem_without_a_kid_is_refused_with_what_to_do(
    sealing_key: publickey.SealingKey,
) -> None:
    bare = sealing_key.public_pem().split("\n", 1)[1]
    with pytest.raises(errors.SealingError, match="fetch it again"):
        publickey.seal_to_public_key(bare, b"token", BINDING)


def test_a_pem_that_is_not_x25519_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    other = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(errors.SealingError, match="X25519"):
        publickey.seal_to_public_key(other, b"token", BINDING, kid="abc")
    with pytest.raises(errors.SealingError, match="PEM"):
        publickey.seal_to_public_key("garbage", b"token", BINDING, kid="abc")


@given(st.text())
def test_random_strings_only_ever_raise_sealing_errors(blob: str) -> None:
    with pytest.raises(errors.SealingError):
        publickey.open_sealed(FUZZ_KEY, blob, BINDING)
