"""JWKS parsing: usable keys by kid, and every refused key described by index and field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from strongroom_core.identity import errors, jwks
from tests import canary
from tests.core.identity import factories as f


@pytest.fixture(scope="module")
def rsa_signer() -> f.Signer:
    return f.Signer.new("RS256", kid="rsa-1")


def test_keys_of_every_supported_type_are_parsed_by_kid() -> None:
    signers = [f.Signer.new(alg) for alg in ("RS256", "ES256", "ES384", "EdDSA")]
    keys = jwks.parse_jwks(f.jwks_document(*(s.jwk() for s in signers)))
    assert sorted(k for k in keys if k) == sorted(s.kid for s in signers)
    assert keys[signers[0].kid].algorithms == {"RS256", "RS384", "RS512", "PS256", "PS384"}
    assert keys[signers[1].kid].algorithms == {"ES256"}
    assert keys[signers[2].kid].algorithms == {"ES384"}
    assert keys[signers[3].kid].algorithms == {"EdDSA"}
    assert keys.refused == ()


def test_a_document_may_be_bytes_text_or_a_parsed_object(rsa_signer: f.Signer) -> None:
    document = f.jwks_document(rsa_signer.jwk())
    for form in (document, document.decode(), json.loads(document)):
        assert list(jwks.parse_jwks(form)) == ["rsa-1"]


def test_the_repr_of_a_key_set_shows_no_key_material(rsa_signer: f.Signer) -> None:
    keys = jwks.parse_jwks(f.jwks_document(rsa_signer.jwk()))
    assert rsa_signer.jwk()["n"][:20] not in repr(keys)


def test_an_encryption_key_is_left_out_and_described(rsa_signer: f.Signer) -> None:
    signing = f.Signer.new("ES256", kid="sig")
    keys = jwks.parse_jwks(
        f.jwks_document(rsa_signer.jwk(use="enc", alg="RSA-OAEP"), signing.jwk())
    )
    assert list(keys) == ["sig"]
    assert [r.describe() for r in keys.refused] == ["keys[0].use (kid 'rsa-1'): 'enc' is not 'sig'"]


def test_strict_parsing_raises_for_the_first_refused_key(rsa_signer: f.Signer) -> None:
    document = f.jwks_document(rsa_signer.jwk(), rsa_signer.jwk(kid="b", use="enc"))
    with pytest.raises(errors.JwksError, match=r"keys\[1\]\.use"):
        jwks.parse_jwks(document, strict=True)


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "k"])
def test_a_key_with_private_members_is_refused_and_the_secret_not_quoted(
    rsa_signer: f.Signer, member: str
) -> None:
    secret = canary.new("private-part")
    extra: dict[str, Any] = {member: secret}
    keys = jwks.parse_jwks(f.jwks_document(rsa_signer.jwk(**extra)))
    assert len(keys) == 0
    (refusal,) = keys.refused
    assert refusal.field == member
    assert refusal.index == 0
    assert secret not in refusal.describe()
    with pytest.raises(errors.JwksError) as info:
        jwks.parse_jwks(f.jwks_document(rsa_signer.jwk(**extra)), strict=True)
    assert secret not in str(info.value)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kty": "oct"}, "kty"),
        ({"kty": None}, "kty"),
        ({"key_ops": ["encrypt"]}, "key_ops"),
        ({"alg": "ES256"}, "alg"),
        ({"alg": "HS256"}, "alg"),
        ({"n": "not base64!"}, "n"),
        ({"n": 12345}, "n"),
        ({"e": "AAAA"}, "e"),
        ({"kid": 42}, "kid"),
    ],
)
def test_a_malformed_rsa_key_is_refused_naming_the_field(
    rsa_signer: f.Signer, changes: dict[str, Any], field: str
) -> None:
    jwk = rsa_signer.jwk()
    jwk.update(changes)
    jwk = {k: v for k, v in jwk.items() if v is not None}
    with pytest.raises(errors.JwksError, match=rf"keys\[0\]\.{field}"):
        jwks.parse_jwks(f.jwks_document(jwk), strict=True)


def test_an_rsa_key_shorter_than_2048_bits_is_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the point of the test)
    signer = f.Signer("RS256", "small", small)
    with pytest.raises(errors.JwksError, match=r"keys\[0\]\.n.*2048"):
        jwks.parse_jwks(f.jwks_document(signer.jwk()), strict=True)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"crv": "P-521"}, "crv"),
        ({"crv": "secp256k1"}, "crv"),
        ({"x": f.b64(b"\x01" * 31)}, "x"),
        ({"y": f.b64(b"\x01" * 32)}, "x"),  # a point off the curve
        ({"y": None}, "y"),
    ],
)
def test_a_malformed_ec_key_is_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    jwk = f.Signer.new("ES256", kid="ec").jwk()
    jwk.update(changes)
    jwk = {k: v for k, v in jwk.items() if v is not None}
    with pytest.raises(errors.JwksError, match=rf"keys\[0\]\.{field}"):
        jwks.parse_jwks(f.jwks_document(jwk), strict=True)


def test_a_p384_key_is_not_accepted_as_p256() -> None:
    p384 = f.Signer("ES384", "ec", ec.generate_private_key(ec.SECP384R1()))
    jwk = p384.jwk(crv="P-256")
    with pytest.raises(errors.JwksError, match=r"keys\[0\]\.x"):
        jwks.parse_jwks(f.jwks_document(jwk), strict=True)


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"crv": "Ed448"}, "crv"), ({"crv": "X25519"}, "crv"), ({"x": f.b64(b"\x00" * 31)}, "x")],
)
def test_a_malformed_okp_key_is_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    jwk = f.Signer.new("EdDSA", kid="ed").jwk()
    jwk.update(changes)
    with pytest.raises(errors.JwksError, match=rf"keys\[0\]\.{field}"):
        jwks.parse_jwks(f.jwks_document(jwk), strict=True)


def test_two_keys_with_one_kid_are_both_refused(rsa_signer: f.Signer) -> None:
    other = f.Signer.new("ES256", kid="rsa-1")
    third = f.Signer.new("ES256", kid="rsa-1")
    keys = jwks.parse_jwks(f.jwks_document(rsa_signer.jwk(), other.jwk(), third.jwk()))
    assert len(keys) == 0
    assert [r.index for r in keys.refused] == [1, 2]
    assert all(r.field == "kid" for r in keys.refused)
    with pytest.raises(errors.JwksError, match=r"keys\[1\]\.kid"):
        jwks.parse_jwks(f.jwks_document(rsa_signer.jwk(), other.jwk()), strict=True)


def test_a_key_that_is_not_an_object_is_refused() -> None:
    keys = jwks.parse_jwks(b'{"keys": ["RSA"]}')
    assert keys.refused[0].describe().startswith("keys[0]")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"not json", "JWKS: not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"keys": {}}', "JWKS.keys"),
        (b"{}", "JWKS.keys"),
        (b'{"keys": [], "keys": []}', "twice"),
        (b'{"keys": [' + b"{}," * 100 + b"{}]}", "more than 100"),
        (b" " * (jwks.MAX_DOCUMENT_BYTES + 1), "larger than"),
        (b"\xff\xfe", "JWKS"),
    ],
)
def test_an_unusable_document_is_refused(document: bytes, message: str) -> None:
    with pytest.raises(errors.JwksError, match=message):
        jwks.parse_jwks(document)


def test_a_key_without_kid_is_used_by_tokens_without_kid(rsa_signer: f.Signer) -> None:
    jwk = rsa_signer.jwk()
    del jwk["kid"]
    keys = jwks.parse_jwks(f.jwks_document(jwk))
    assert keys.key_for(None) is not None
    assert keys.key_for("rsa-1") is None
