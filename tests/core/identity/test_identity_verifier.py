"""The per-App Verifier: full verification, then recently verified tokens answered from memory
with expiry still checked on every use."""

from __future__ import annotations

import pytest

from strongroom_core.identity import caching, config, errors, jwks, recent, verification
from strongroom_core.resources import models
from tests.core.identity import factories as f


@pytest.fixture(scope="module")
def signer() -> f.Signer:
    return f.Signer.new("RS256", kid="k1")


@pytest.fixture
def provider(signer: f.Signer) -> f.IdentityProvider:
    return f.IdentityProvider(signer)


@pytest.fixture
def verifier(provider: f.IdentityProvider) -> verification.Verifier:
    expected = verification.Expectations(f.ISSUER, (f.AUDIENCE,), ("RS256", "ES256"))
    cache = caching.JwksCache(f.JWKS_URL)
    return verification.Verifier(expected, cache, provider, clock=lambda: f.NOW)


async def test_a_verified_token_is_remembered_and_answered_again(
    signer: f.Signer, verifier: verification.Verifier
) -> None:
    token = signer.token()
    first = await verifier.verify(token)
    assert len(verifier.recent) == 1
    assert await verifier.verify(token) is first


async def test_a_remembered_token_is_refused_once_it_expires(
    signer: f.Signer, verifier: verification.Verifier
) -> None:
    token = signer.token(exp=f.NOW + 100)
    await verifier.verify(token)
    assert (await verifier.verify(token, f.NOW + 129))["sub"] == "alice"
    with pytest.raises(errors.IdentityError) as info:
        await verifier.verify(token, f.NOW + 130)
    assert info.value.code == "token_expired"
    assert len(verifier.recent) == 0


async def test_remembered_tokens_verify_again_once_the_key_set_is_replaced(
    signer: f.Signer, verifier: verification.Verifier
) -> None:
    token = signer.token()
    await verifier.verify(token)
    other = f.Signer.new("ES256", kid="k2")
    verifier.cache.replace(jwks.parse_jwks(f.jwks_document(other.jwk())), f.NOW)
    verifier.cache.last_attempt = f.NOW
    with pytest.raises(errors.IdentityError) as info:
        await verifier.verify(token)
    assert info.value.code == "unknown_key"


async def test_a_refused_token_is_not_remembered(
    signer: f.Signer, verifier: verification.Verifier
) -> None:
    with pytest.raises(errors.IdentityError):
        await verifier.verify(signer.token(iss="https://other.example"))
    assert len(verifier.recent) == 0


async def test_the_verifier_refuses_a_non_string_token(verifier: verification.Verifier) -> None:
    with pytest.raises(errors.IdentityError) as info:
        await verifier.verify(None)  # type: ignore[arg-type]
    assert info.value.code == "malformed_token"


def test_recent_tokens_are_bounded_least_recently_used_first() -> None:
    memory = recent.RecentTokens(max_entries=2)
    keys = jwks.EMPTY
    digests = [memory.digest(f"token-{i}") for i in range(3)]
    for d in digests[:2]:
        memory.put(d, recent.Entry({}, f.NOW, keys))
    assert memory.get(digests[0], keys) is not None  # now most recently used
    memory.put(digests[2], recent.Entry({}, f.NOW, keys))
    assert memory.get(digests[1], keys) is None
    assert memory.get(digests[0], keys) is not None
    assert len(memory) == 2
    memory.clear()
    assert len(memory) == 0


def test_recent_tokens_can_be_turned_off() -> None:
    memory = recent.RecentTokens(max_entries=0)
    memory.put(memory.digest("t"), recent.Entry({}, f.NOW, jwks.EMPTY))
    assert len(memory) == 0
    with pytest.raises(ValueError, match="max_entries"):
        recent.RecentTokens(max_entries=-1)


async def test_a_verifier_built_from_an_app_spec_verifies_its_tokens(
    signer: f.Signer, provider: f.IdentityProvider
) -> None:
    spec = {
        "issuer": f.ISSUER,
        "jwksURL": f.JWKS_URL,
        "audiences": [f.AUDIENCE],
        "claims": {"userId": "email"},
    }
    cfg = config.from_spec(spec)
    assert cfg.expected.algorithms == ("RS256",)
    assert cfg.claims.user_id == "email"
    assert cfg.claims.groups == "groups"
    verifier = verification.Verifier(cfg.expected, cfg.new_cache(), provider)
    claims = await verifier.verify(signer.token(), f.NOW)
    assert claims["sub"] == "alice"
    assert provider.fetches == [f.JWKS_URL]


def test_a_config_from_the_parsed_model_keeps_every_setting() -> None:
    identity = models.Identity(
        issuer=f.ISSUER,
        jwks_url=f.JWKS_URL,
        audiences=("a", "b"),
        algorithms=("ES256", "EdDSA"),
        user_id_claim="email",
        groups_claim="realm_access.roles",
    )
    cfg = config.from_model(identity, leeway=5)
    assert cfg.expected.audiences == ("a", "b")
    assert cfg.expected.allowed == {"ES256", "EdDSA"}
    assert cfg.expected.leeway == 5
    assert cfg.claims.groups == "realm_access.roles"
    assert cfg.same_keys_as(config.from_model(identity))


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"jwksURL": f.JWKS_URL, "audiences": ["a"]}, "issuer"),
        ({"issuer": f.ISSUER, "audiences": ["a"]}, "jwksURL"),
        ({"issuer": f.ISSUER, "jwksURL": f.JWKS_URL}, "audiences"),
        (
            {
                "issuer": f.ISSUER,
                "jwksURL": f.JWKS_URL,
                "audiences": ["a"],
                "algorithms": ["HS256"],
            },
            "algorithms",
        ),
    ],
)
def test_a_malformed_identity_spec_is_refused_naming_the_field(
    spec: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        config.from_spec(spec)
