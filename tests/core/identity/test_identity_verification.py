"""Token verification against a fixed key set: every accepted algorithm, and every attack
refused with its stable code."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from strongroom_core.identity import compact, errors, jwks, verification
from tests import canary
from tests.core.identity import factories as f

ALL = f.ALL_ALGORITHMS


def check(token: str, keys: jwks.KeySet, *, algorithms: tuple[str, ...] = ALL, **kw: Any) -> Any:
    options: dict[str, Any] = {
        "issuer": f.ISSUER,
        "audiences": [f.AUDIENCE],
        "algorithms": algorithms,
        "now": f.NOW,
    }
    options.update(kw)
    return verification.verify(token, keys=keys, **options)


def refused(token: str, keys: jwks.KeySet, code: str, **kw: Any) -> errors.IdentityError:
    with pytest.raises(errors.IdentityError) as info:
        check(token, keys, **kw)
    assert info.value.code == code, info.value.detail
    signature = token.rsplit(".", 1)[-1]
    for secret in (token, signature):
        assert len(secret) < 8 or secret not in str(info.value)
    assert not canary.found_in(str(info.value))
    return info.value


@pytest.fixture(scope="module")
def rsa_signer() -> f.Signer:
    return f.Signer.new("RS256", kid="rsa-1")


@pytest.fixture(scope="module")
def keys(rsa_signer: f.Signer) -> jwks.KeySet:
    return jwks.parse_jwks(f.jwks_document(rsa_signer.jwk()))


@pytest.mark.parametrize("alg", ALL)
def test_a_token_signed_with_each_accepted_algorithm_verifies(alg: str) -> None:
    signer = f.Signer.new(alg)
    keys = jwks.parse_jwks(f.jwks_document(signer.jwk()))
    claims = check(signer.token(), keys, algorithms=(alg,))
    assert claims["sub"] == "alice"
    assert claims["groups"] == ["staff"]


@pytest.mark.parametrize("alg", ALL)
def test_a_key_that_names_its_alg_verifies_tokens_of_that_alg(alg: str) -> None:
    signer = f.Signer.new(alg)
    keys = jwks.parse_jwks(f.jwks_document(signer.jwk(with_alg=True)))
    assert check(signer.token(), keys)["sub"] == "alice"


def test_claims_are_read_only(rsa_signer: f.Signer, keys: jwks.KeySet) -> None:
    claims = check(rsa_signer.token(), keys)
    with pytest.raises(TypeError):
        claims["sub"] = "mallory"


# --- algorithm attacks -----------------------------------------------------------------------


@pytest.mark.parametrize("signature", ["", "c2lnbmF0dXJl"])
@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused_with_or_without_a_signature(
    keys: jwks.KeySet, alg: str, signature: str
) -> None:
    token = f.unsigned_token(f.valid_claims(), alg=alg, signature=signature)
    refused(token, keys, "algorithm_not_allowed")


def test_alg_none_is_refused_even_if_the_app_lists_it(keys: jwks.KeySet) -> None:
    token = f.unsigned_token(f.valid_claims())
    with pytest.raises(ValueError, match=r"identity.algorithms\[1\]"):
        check(token, keys, algorithms=("RS256", "none"))


def test_hs256_signed_with_the_rsa_public_key_pem_is_refused(
    rsa_signer: f.Signer, keys: jwks.KeySet
) -> None:
    token = f.hs256_token(rsa_signer.public_pem(), f.valid_claims(), rsa_signer.kid)
    error = refused(token, keys, "algorithm_not_allowed")
    assert "HS" in error.detail


def test_hs256_signed_with_the_rsa_jwk_bytes_is_refused(
    rsa_signer: f.Signer, keys: jwks.KeySet
) -> None:
    for secret in (
        json.dumps(rsa_signer.jwk()).encode(),
        f.jwks_document(rsa_signer.jwk()),
        rsa_signer.jwk()["n"].encode(),
    ):
        token = f.hs256_token(secret, f.valid_claims(), rsa_signer.kid)
        refused(token, keys, "algorithm_not_allowed")


def test_hs256_is_refused_even_if_the_app_lists_it(keys: jwks.KeySet) -> None:
    with pytest.raises(ValueError, match="HS256"):
        check("a.b.c", keys, algorithms=("HS256",))


def test_an_algorithm_the_app_does_not_allow_is_refused(keys: jwks.KeySet) -> None:
    signer = f.Signer.new("ES256")
    es_keys = jwks.parse_jwks(f.jwks_document(signer.jwk()))
    error = refused(signer.token(), es_keys, "algorithm_not_allowed", algorithms=("RS256",))
    assert "ES256" in error.detail
    assert "identity.algorithms" in error.detail


def test_an_unknown_algorithm_name_is_refused_without_echoing_it(keys: jwks.KeySet) -> None:
    token = f.unsigned_token(f.valid_claims(), alg="XX999\nforged log line", signature="c2ln")
    error = refused(token, keys, "algorithm_not_allowed")
    assert "forged" not in error.detail


def test_an_rsa_key_cannot_verify_an_es256_token(rsa_signer: f.Signer) -> None:
    es = f.Signer.new("ES256", kid=rsa_signer.kid)
    keys = jwks.parse_jwks(f.jwks_document(rsa_signer.jwk()))
    error = refused(es.token(), keys, "algorithm_not_allowed")
    assert "RSA" in error.detail


def test_an_ec_p256_key_cannot_verify_an_es384_token() -> None:
    p256 = f.Signer.new("ES256", kid="ec")
    keys = jwks.parse_jwks(f.jwks_document(p256.jwk()))
    refused(p256.token(header={"alg": "ES384"}), keys, "algorithm_not_allowed")


def test_an_ed25519_key_cannot_verify_an_rs256_token(rsa_signer: f.Signer) -> None:
    ed = f.Signer.new("EdDSA", kid=rsa_signer.kid)
    keys = jwks.parse_jwks(f.jwks_document(ed.jwk()))
    refused(rsa_signer.token(), keys, "algorithm_not_allowed")


def test_a_key_bound_to_rs256_cannot_verify_ps256(rsa_signer: f.Signer) -> None:
    keys = jwks.parse_jwks(f.jwks_document(rsa_signer.jwk(with_alg=True)))
    error = refused(rsa_signer.token(alg="PS256"), keys, "algorithm_not_allowed")
    assert "bound to RS256" in error.detail


# --- keys from the token itself ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["jwk", "jku", "x5u", "x5c"])
def test_a_key_embedded_in_or_referenced_by_the_token_is_refused(name: str) -> None:
    attacker = f.Signer.new("ES256", kid="attacker")
    keys = jwks.parse_jwks(f.jwks_document(attacker.jwk()))  # even if the kid happened to match
    values = {
        "jwk": attacker.jwk(),
        "jku": "https://attacker.example/jwks",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIB"],
    }
    error = refused(attacker.token(header={name: values[name]}), keys, "malformed_token")
    assert f"header {name}" in error.detail


@pytest.mark.parametrize(
    "extra", [{"crit": ["exp"]}, {"crit": ["b64"], "b64": False}, {"b64": False}, {"zip": "DEF"}]
)
def test_critical_extensions_and_unsupported_headers_are_refused(
    rsa_signer: f.Signer, keys: jwks.KeySet, extra: dict[str, Any]
) -> None:
    refused(rsa_signer.token(header=extra), keys, "malformed_token")


# --- signature -------------------------------------------------------------------------------


def test_a_tampered_signature_is_refused(rsa_signer: f.Signer, keys: jwks.KeySet) -> None:
    head, body, sig = rsa_signer.token().split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=="))
    raw[10] ^= 0x01
    token = f"{head}.{body}.{f.b64(bytes(raw))}"
    canary.register(token)
    refused(token, keys, "bad_signature")


def test_a_tampered_payload_is_refused(rsa_signer: f.Signer, keys: jwks.KeySet) -> None:
    head, _, sig = rsa_signer.token().split(".")
    token = f"{head}.{f.b64json(f.valid_claims(sub='mallory'))}.{sig}"
    canary.register(token)
    error = refused(token, keys, "bad_signature")
    assert "mallory" not in error.detail


def test_a_token_signed_by_another_key_with_the_same_kid_is_refused(
    rsa_signer: f.Signer, keys: jwks.KeySet
) -> None:
    impostor = f.Signer.new("RS256", kid=rsa_signer.kid, rsa_index=1)
    refused(impostor.token(), keys, "bad_signature")


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "PS256"])
def test_tampered_signatures_fail_for_every_key_type(alg: str) -> None:
    signer = f.Signer.new(alg)
    keys = jwks.parse_jwks(f.jwks_document(signer.jwk()))
    head, body, _ = signer.token().split(".")
    other = signer.token(sub="bob").split(".")[2]
    token = f"{head}.{body}.{other}"
    canary.register(token)
    refused(token, keys, "bad_signature")
    short = f"{head}.{body}.{f.b64(b'x' * 10)}"
    refused(short, keys, "bad_signature")


def test_a_token_naming_no_kid_uses_the_only_key(rsa_signer: f.Signer, keys: jwks.KeySet) -> None:
    assert check(rsa_signer.token(header={"kid": None}), keys)["sub"] == "alice"


def test_a_token_naming_no_kid_is_refused_when_the_set_has_several_keys(
    rsa_signer: f.Signer,
) -> None:
    other = f.Signer.new("ES256")
    keys = jwks.parse_jwks(f.jwks_document(rsa_signer.jwk(), other.jwk()))
    refused(rsa_signer.token(header={"kid": None}), keys, "unknown_key")


def test_an_unknown_kid_is_refused(rsa_signer: f.Signer, keys: jwks.KeySet) -> None:
    error = refused(rsa_signer.token(header={"kid": "rotated-away"}), keys, "unknown_key")
    assert "rotated-away" in error.detail


# --- claims ----------------------------------------------------------------------------------


def test_an_expired_token_is_refused(rsa_signer: f.Signer, keys: jwks.KeySet) -> None:
    refused(rsa_signer.token(exp=f.NOW - 31), keys, "token_expired")


def test_expiry_within_the_leeway_is_tolerated(rsa_signer: f.Signer, keys: jwks.KeySet) -> None:
    assert check(rsa_signer.token(exp=f.NOW - 29), keys)["sub"] == "alice"
    refused(rsa_signer.token(exp=f.NOW - 1), keys, "token_expired", leeway=0)


def test_a_token_not_yet_valid_is_refused(rsa_signer: f.Signer, keys: jwks.KeySet) -> None:
    refused(rsa_signer.token(nbf=f.NOW + 31), keys, "token_not_yet_valid")
    assert check(rsa_signer.token(nbf=f.NOW + 29), keys)["sub"] == "alice"


def test_a_token_issued_in_the_future_is_refused(rsa_signer: f.Signer, keys: jwks.KeySet) -> None:
    error = refused(rsa_signer.token(iat=f.NOW + 120, nbf=None), keys, "token_not_yet_valid")
    assert "iat" in error.detail


def test_a_token_from_another_issuer_is_refused(rsa_signer: f.Signer, keys: jwks.KeySet) -> None:
    error = refused(rsa_signer.token(iss="https://evil.example"), keys, "wrong_issuer")
    assert f.ISSUER in error.detail
    assert "evil" not in error.detail


@pytest.mark.parametrize("aud", ["other-api", ["other-api", "billing"], []])
def test_a_token_for_another_audience_is_refused(
    rsa_signer: f.Signer, keys: jwks.KeySet, aud: Any
) -> None:
    error = refused(rsa_signer.token(aud=aud), keys, "wrong_audience")
    assert "other-api" not in error.detail


def test_a_token_listing_the_app_among_its_audiences_is_accepted(
    rsa_signer: f.Signer, keys: jwks.KeySet
) -> None:
    assert check(rsa_signer.token(aud=["billing", f.AUDIENCE]), keys)["sub"] == "alice"
    assert check(rsa_signer.token(), keys, audiences=["x", f.AUDIENCE])["sub"] == "alice"


@pytest.mark.parametrize("claim", ["iss", "aud", "exp"])
def test_a_token_without_a_required_claim_is_refused(
    rsa_signer: f.Signer, keys: jwks.KeySet, claim: str
) -> None:
    error = refused(rsa_signer.token(**{claim: None}), keys, "missing_claim")
    assert f"claim {claim}" in error.detail


@pytest.mark.parametrize(
    ("claim", "value"),
    [("exp", "tomorrow"), ("exp", True), ("nbf", [1]), ("iat", 1e400), ("aud", [1])],
)
def test_a_claim_of_the_wrong_type_is_malformed(
    rsa_signer: f.Signer, keys: jwks.KeySet, claim: str, value: Any
) -> None:
    refused(rsa_signer.token(**{claim: value}), keys, "malformed_token")


def test_a_far_future_integer_expiry_is_accepted(rsa_signer: f.Signer, keys: jwks.KeySet) -> None:
    assert check(rsa_signer.token(exp=10**400), keys)["sub"] == "alice"


def test_the_signature_is_checked_before_the_claims(
    rsa_signer: f.Signer, keys: jwks.KeySet
) -> None:
    impostor = f.Signer.new("RS256", kid=rsa_signer.kid, rsa_index=1)
    refused(impostor.token(exp=f.NOW - 1000, iss="x"), keys, "bad_signature")


# --- shape -----------------------------------------------------------------------------------


def test_an_oversize_token_is_refused(rsa_signer: f.Signer, keys: jwks.KeySet) -> None:
    token = rsa_signer.token(padding="x" * compact.MAX_TOKEN_LENGTH)
    error = refused(token, keys, "malformed_token")
    assert str(compact.MAX_TOKEN_LENGTH) in error.detail


def test_an_oversize_header_is_refused(rsa_signer: f.Signer, keys: jwks.KeySet) -> None:
    token = rsa_signer.token(header={"x": "y" * compact.MAX_HEADER_LENGTH})
    refused(token, keys, "malformed_token")


@pytest.mark.parametrize("token", ["", "a", "a.b", "a.b.c.d", "a.b.c.d.e", "...."])
def test_a_token_without_three_segments_is_malformed(keys: jwks.KeySet, token: str) -> None:
    refused(token, keys, "malformed_token")


def test_a_token_with_non_ascii_characters_is_malformed(
    rsa_signer: f.Signer, keys: jwks.KeySet
) -> None:
    head, _, sig = rsa_signer.token().split(".")
    refused(f"{head}.\u00e9t\u00e9.{sig}", keys, "malformed_token")


def test_a_jwe_is_refused_with_a_hint(keys: jwks.KeySet) -> None:
    assert "JWE" in refused("a.b.c.d.e", keys, "malformed_token").detail


@pytest.mark.parametrize(
    "header",
    [
        f.b64(b'{"alg":"RS256","alg":"none"}'),
        f.b64(b'["RS256"]'),
        f.b64(b"not json"),
        f.b64json({"alg": "RS256"}) + "=",
        f.b64json({"alg": 256}),
        f.b64json({"alg": "RS256", "kid": 7}),
    ],
)
def test_a_malformed_header_is_refused(keys: jwks.KeySet, header: str) -> None:
    refused(f"{header}.{f.b64json(f.valid_claims())}.c2ln", keys, "malformed_token")


def test_a_non_canonical_signature_encoding_is_refused(
    rsa_signer: f.Signer, keys: jwks.KeySet
) -> None:
    head, body, sig = rsa_signer.token().split(".")
    # 256 bytes encode to 342 characters with 4 unused bits in the last one: set one of them.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    index = alphabet.index(sig[-1])
    last = alphabet[index ^ 1]  # differs only in the unused low bits
    token = f"{head}.{body}.{sig[:-1]}{last}"
    canary.register(token)
    refused(token, keys, "malformed_token")


def test_a_payload_that_is_not_an_object_is_malformed_after_the_signature(
    rsa_signer: f.Signer, keys: jwks.KeySet
) -> None:
    head = f.b64json({"alg": "RS256", "kid": rsa_signer.kid})
    body = f.b64(b"[1, 2]")
    signature = f.b64(rsa_signer.sign_bytes(f"{head}.{body}".encode()))
    refused(f"{head}.{body}.{signature}", keys, "malformed_token")


def test_a_non_string_token_is_malformed(keys: jwks.KeySet) -> None:
    with pytest.raises(errors.IdentityError) as info:
        verification.verify(
            b"a.b.c",  # type: ignore[arg-type]
            keys=keys,
            issuer=f.ISSUER,
            audiences=[f.AUDIENCE],
            algorithms=["RS256"],
            now=f.NOW,
        )
    assert info.value.code == "malformed_token"


# --- expectations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"issuer": ""}, "issuer"),
        ({"audiences": ()}, "audiences"),
        ({"algorithms": ()}, "algorithms"),
        ({"algorithms": ("ES512",)}, "algorithms"),
        ({"leeway": -1}, "leeway"),
        ({"leeway": 3600}, "leeway"),
    ],
)
def test_impossible_expectations_are_refused_naming_the_field(
    kw: dict[str, Any], field: str
) -> None:
    options: dict[str, Any] = {"issuer": f.ISSUER, "audiences": (f.AUDIENCE,)}
    options.update(kw)
    with pytest.raises(ValueError, match=field):
        verification.Expectations(**options)
