"""The review cache: bounded, at most its TTL, never past the token's expiry, never holding a
token."""

from __future__ import annotations

import pytest

from strongroom_operator.controlplane import auth, reviewcache
from tests import canary

CALLER = auth.Caller("sidecar", "pod/web-0", "team-a", "shop")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_expires_after_the_ttl() -> None:
    clock = Clock()
    cache = reviewcache.ReviewCache(ttl=30, clock=clock, wall_clock=clock)
    cache.put("k", CALLER, None)
    clock.now += 29
    assert cache.get("k") == CALLER
    clock.now += 2
    assert cache.get("k") is None


def test_an_entry_never_outlives_the_tokens_expiry() -> None:
    clock = Clock()
    cache = reviewcache.ReviewCache(ttl=30, clock=clock, wall_clock=clock)
    cache.put("k", CALLER, token_expires_at=clock.now + 5)
    clock.now += 6
    assert cache.get("k") is None


def test_a_token_already_expired_is_not_cached() -> None:
    clock = Clock()
    cache = reviewcache.ReviewCache(ttl=30, clock=clock, wall_clock=clock)
    cache.put("k", CALLER, token_expires_at=clock.now - 1)
    assert len(cache) == 0


def test_the_cache_is_bounded_least_recently_used_out_first() -> None:
    cache = reviewcache.ReviewCache(ttl=30, max_entries=2)
    cache.put("a", CALLER, None)
    cache.put("b", CALLER, None)
    assert cache.get("a") == CALLER
    cache.put("c", CALLER, None)
    assert cache.get("b") is None
    assert cache.get("a") == CALLER
    assert cache.get("c") == CALLER


def test_a_ttl_over_a_minute_is_refused() -> None:
    with pytest.raises(ValueError, match="ttl"):
        reviewcache.ReviewCache(ttl=61)


def test_the_key_is_a_hash_so_the_token_is_never_held() -> None:
    token = canary.new("token")
    key = reviewcache.token_key(token)
    assert token not in key
    assert len(key) == 64
