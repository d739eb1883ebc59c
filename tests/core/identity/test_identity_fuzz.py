"""Whatever a caller sends as a token, or a provider serves as a JWKS, the answer is an
IdentityError (or JwksError) with a known code, never another exception."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom_core.identity import errors, jwks, verification
from tests.core.identity import factories as f

SIGNER = f.Signer.new("RS256", kid="k1")
KEYS = jwks.parse_jwks(f.jwks_document(SIGNER.jwk(), f.Signer.new("ES256", kid="k2").jwk()))
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_only_identity_errors(token: str) -> None:
    try:
        verification.verify(
            token,
            keys=KEYS,
            issuer=f.ISSUER,
            audiences=[f.AUDIENCE],
            algorithms=f.ALL_ALGORITHMS,
            now=f.NOW,
        )
    except errors.IdentityError as e:
        code: str = e.code
    else:
        code = "accepted"
    assert code in {*errors.CODES, "accepted"}


@FUZZ
@given(st.text(max_size=300))
def test_random_strings_raise_only_identity_errors(token: str) -> None:
    assert_only_identity_errors(token)


@FUZZ
@given(st.lists(st.text(B64_ALPHABET, max_size=120), min_size=1, max_size=6))
def test_random_dot_separated_base64_raises_only_identity_errors(segments: list[str]) -> None:
    assert_only_identity_errors(".".join(segments))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
headers = st.fixed_dictionaries(
    {"alg": st.sampled_from([*f.ALL_ALGORITHMS, "none", "HS256"]) | st.text(max_size=8)},
    optional={"kid": st.sampled_from(["k1", "k2"]) | json_values, "crit": json_values},
)


@FUZZ
@given(
    headers, st.dictionaries(st.text(max_size=8), json_values, max_size=6), st.binary(max_size=80)
)
def test_well_formed_segments_with_random_json_raise_only_identity_errors(
    header: dict[str, object], claims: dict[str, object], signature: bytes
) -> None:
    head, body = (f.b64(json.dumps(part).encode()) for part in (header, claims))
    token = f"{head}.{body}.{f.b64(signature)}"
    assert_only_identity_errors(token)


@FUZZ
@given(st.dictionaries(st.sampled_from(["iss", "aud", "exp", "nbf", "iat", "sub"]), json_values))
def test_validly_signed_random_claims_raise_only_identity_errors(claims: dict[str, object]) -> None:
    assert_only_identity_errors(SIGNER.token(claims))


@FUZZ
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["kty", "kid", "crv", "n", "e", "x", "y", "use", "alg", "d"]),
            json_values,
        ),
        max_size=4,
    )
)
def test_random_jwks_documents_raise_only_jwks_errors(entries: list[dict[str, object]]) -> None:
    with contextlib.suppress(errors.JwksError):
        jwks.parse_jwks(json.dumps({"keys": entries}).encode())


@FUZZ
@given(st.sampled_from(["k1", "k2", "k3"]), st.text(max_size=60), st.text(max_size=60))
def test_a_valid_header_with_random_payload_and_signature_raises_only_identity_errors(
    kid: str, payload: str, signature: str
) -> None:
    head = f.b64(json.dumps({"alg": "RS256", "kid": kid}).encode())
    assert_only_identity_errors(f"{head}.{payload}.{signature}")
