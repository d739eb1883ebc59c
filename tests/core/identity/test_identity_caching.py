"""The JWKS cache: refetch on an unknown kid, a floor on refetches, single flight, refresh of
an old key set, and what happens when the identity provider is down."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from strongroom_core.identity import caching, errors, jwks, verification
from tests.core.identity import factories as f

FLOOR = 30.0


@pytest.fixture(scope="module")
def signer() -> f.Signer:
    return f.Signer.new("RS256", kid="k1")


@pytest.fixture
def provider(signer: f.Signer) -> f.IdentityProvider:
    return f.IdentityProvider(signer)


@pytest.fixture
def cache() -> caching.JwksCache:
    return caching.JwksCache(f.JWKS_URL, min_refetch_interval=FLOOR, max_age=3600)


async def verify(
    token: str, cache: caching.JwksCache, provider: f.IdentityProvider, now: float = f.NOW
) -> Any:
    return await verification.verify_fetching(
        token,
        cache=cache,
        fetch=provider,
        issuer=f.ISSUER,
        audiences=[f.AUDIENCE],
        algorithms=f.ALL_ALGORITHMS,
        now=now,
    )


async def refused(coro: Any, code: str) -> errors.IdentityError:
    with pytest.raises(errors.IdentityError) as info:
        await coro
    assert info.value.code == code, info.value.detail
    return info.value


async def test_the_first_token_fetches_the_jwks_once(
    signer: f.Signer, provider: f.IdentityProvider, cache: caching.JwksCache
) -> None:
    token = signer.token()
    assert (await verify(token, cache, provider))["sub"] == "alice"
    assert (await verify(token, cache, provider, f.NOW + 1))["sub"] == "alice"
    assert provider.fetches == [f.JWKS_URL]
    assert cache.fetched_at == f.NOW


async def test_a_key_rotated_at_the_provider_is_accepted_after_a_refetch(
    signer: f.Signer, provider: f.IdentityProvider, cache: caching.JwksCache
) -> None:
    await verify(signer.token(), cache, provider)
    rotated = f.Signer.new("ES256", kid="k2")
    provider.rotate(rotated)
    assert (await verify(rotated.token(), cache, provider, f.NOW + 60))["sub"] == "alice"
    assert len(provider.fetches) == 2


async def test_an_unknown_kid_refetches_once_then_is_unknown_key(
    signer: f.Signer, provider: f.IdentityProvider, cache: caching.JwksCache
) -> None:
    await verify(signer.token(), cache, provider)
    stranger = f.Signer.new("ES256", kid="nobody-knows")
    error = await refused(verify(stranger.token(), cache, provider, f.NOW + 40), "unknown_key")
    assert "even after fetching it again" in error.detail
    assert len(provider.fetches) == 2


async def test_a_second_unknown_kid_inside_the_floor_does_not_refetch(
    signer: f.Signer, provider: f.IdentityProvider, cache: caching.JwksCache
) -> None:
    await verify(signer.token(), cache, provider)
    await refused(
        verify(signer.token(header={"kid": "r1"}), cache, provider, f.NOW + 40), "unknown_key"
    )
    assert len(provider.fetches) == 2
    for offset in (41, 50, 69):
        token = signer.token(header={"kid": f"r-{offset}"})
        await refused(verify(token, cache, provider, f.NOW + offset), "unknown_key")
    assert len(provider.fetches) == 2
    assert cache.needs_refetch("r-70", f.NOW + 70)
    await refused(
        verify(signer.token(header={"kid": "r3"}), cache, provider, f.NOW + 70), "unknown_key"
    )
    assert len(provider.fetches) == 3


async def test_a_key_rotated_inside_the_floor_is_accepted_once_the_floor_passed(
    signer: f.Signer, provider: f.IdentityProvider, cache: caching.JwksCache
) -> None:
    await verify(signer.token(), cache, provider)
    rotated = f.Signer.new("EdDSA", kid="k2")
    provider.rotate(rotated)
    await refused(verify(rotated.token(), cache, provider, f.NOW + 10), "unknown_key")
    assert (await verify(rotated.token(), cache, provider, f.NOW + 30))["sub"] == "alice"


async def test_ten_concurrent_unknown_kids_share_one_fetch(
    signer: f.Signer, cache: caching.JwksCache
) -> None:
    provider = f.IdentityProvider(signer, delay=0.05)
    cache.replace(jwks.EMPTY, f.NOW - 100)
    tokens = [signer.token() for _ in range(10)]
    results = await asyncio.gather(*(verify(t, cache, provider) for t in tokens))
    assert [r["sub"] for r in results] == ["alice"] * 10
    assert len(provider.fetches) == 1


async def test_concurrent_callers_share_one_failing_fetch(
    signer: f.Signer, cache: caching.JwksCache
) -> None:
    provider = f.IdentityProvider(signer, delay=0.02)
    provider.failing = ConnectionError("refused")
    results = await asyncio.gather(
        *(verify(signer.token(), cache, provider) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, errors.IdentityError) for r in results)
    assert {r.code for r in results if isinstance(r, errors.IdentityError)} == {"jwks_unavailable"}
    assert len(provider.fetches) == 1


async def test_a_cancelled_waiter_does_not_cancel_the_shared_fetch(
    signer: f.Signer, cache: caching.JwksCache
) -> None:
    provider = f.IdentityProvider(signer, delay=0.05)
    leader = asyncio.create_task(verify(signer.token(), cache, provider))
    await asyncio.sleep(0.01)
    follower = asyncio.create_task(verify(signer.token(), cache, provider))
    await asyncio.sleep(0.01)
    follower.cancel()
    assert (await leader)["sub"] == "alice"
    with pytest.raises(asyncio.CancelledError):
        await follower
    assert len(provider.fetches) == 1


async def test_waiters_fail_cleanly_when_the_fetching_caller_is_cancelled(
    signer: f.Signer, cache: caching.JwksCache
) -> None:
    provider = f.IdentityProvider(signer, delay=0.05)
    leader = asyncio.create_task(verify(signer.token(), cache, provider))
    await asyncio.sleep(0.01)
    follower = asyncio.create_task(verify(signer.token(), cache, provider))
    await asyncio.sleep(0.01)
    leader.cancel()
    error = await refused(follower, "jwks_unavailable")
    assert "cancelled" in error.detail
    with pytest.raises(asyncio.CancelledError):
        await leader
    # the next caller after the floor fetches again
    assert (await verify(signer.token(), cache, provider, f.NOW + FLOOR))["sub"] == "alice"


async def test_an_unreachable_provider_is_jwks_unavailable_and_not_asked_again_inside_the_floor(
    signer: f.Signer, provider: f.IdentityProvider, cache: caching.JwksCache
) -> None:
    provider.failing = TimeoutError()
    error = await refused(verify(signer.token(), cache, provider), "jwks_unavailable")
    assert error.status == 503
    assert f.JWKS_URL in error.detail
    assert "TimeoutError" in error.detail
    await refused(verify(signer.token(), cache, provider, f.NOW + 5), "unknown_key")
    assert len(provider.fetches) == 1
    provider.failing = None
    assert (await verify(signer.token(), cache, provider, f.NOW + FLOOR))["sub"] == "alice"


async def test_a_provider_serving_garbage_is_jwks_unavailable(
    signer: f.Signer, provider: f.IdentityProvider, cache: caching.JwksCache
) -> None:
    provider.body = b"<html>login</html>"
    error = await refused(verify(signer.token(), cache, provider), "jwks_unavailable")
    assert "not JSON" in error.detail
    assert cache.last_error is not None


async def test_an_unknown_kid_while_the_provider_is_down_is_jwks_unavailable(
    signer: f.Signer, provider: f.IdentityProvider, cache: caching.JwksCache
) -> None:
    await verify(signer.token(), cache, provider)
    provider.failing = ConnectionError()
    token = signer.token(header={"kid": "new"})
    await refused(verify(token, cache, provider, f.NOW + FLOOR), "jwks_unavailable")
    # the known key keeps working meanwhile
    assert (await verify(signer.token(), cache, provider, f.NOW + FLOOR + 1))["sub"] == "alice"


async def test_an_old_key_set_is_refreshed_on_lookup(
    signer: f.Signer, provider: f.IdentityProvider, cache: caching.JwksCache
) -> None:
    await verify(signer.token(), cache, provider)
    assert not cache.needs_refresh(f.NOW + 3599)
    assert cache.needs_refresh(f.NOW + 3600)
    await verify(signer.token(exp=f.NOW + 9999), cache, provider, f.NOW + 3600)
    assert len(provider.fetches) == 2
    assert cache.fetched_at == f.NOW + 3600


async def test_an_old_key_keeps_serving_when_the_refresh_fails(
    signer: f.Signer, provider: f.IdentityProvider, cache: caching.JwksCache
) -> None:
    await verify(signer.token(), cache, provider)
    provider.failing = ConnectionError()
    token = signer.token(exp=f.NOW + 9999)
    assert (await verify(token, cache, provider, f.NOW + 4000))["sub"] == "alice"
    assert cache.last_error is not None
    assert "ConnectionError" in cache.last_error
    assert cache.fetched_at == f.NOW


async def test_a_key_removed_at_the_provider_stops_verifying_after_the_refresh(
    signer: f.Signer, provider: f.IdentityProvider, cache: caching.JwksCache
) -> None:
    await verify(signer.token(), cache, provider)
    provider.rotate(f.Signer.new("ES256", kid="k2"), keep_old=False)
    token = signer.token(exp=f.NOW + 9999)
    await refused(verify(token, cache, provider, f.NOW + 3600), "unknown_key")


def test_needs_refetch_is_false_for_a_known_kid_and_inside_the_floor(
    signer: f.Signer, cache: caching.JwksCache
) -> None:
    assert cache.needs_refetch("k1", f.NOW)  # nothing fetched yet
    cache.replace(jwks.parse_jwks(f.jwks_document(signer.jwk())), f.NOW)
    assert not cache.needs_refetch("k1", f.NOW + 1)
    assert cache.needs_refetch("k9", f.NOW + 1)  # replace() is not an attempt
    cache.last_attempt = f.NOW
    assert not cache.needs_refetch("k9", f.NOW + FLOOR - 1)
    assert cache.needs_refetch("k9", f.NOW + FLOOR)


@pytest.mark.parametrize(("floor", "age"), [(-1, 60), (30, 0)])
def test_impossible_cache_settings_are_refused(floor: float, age: float) -> None:
    with pytest.raises(ValueError, match="min_refetch_interval"):
        caching.JwksCache(f.JWKS_URL, min_refetch_interval=floor, max_age=age)
