"""Source ranges over IPv4 and IPv6, including IPv4-mapped addresses from dual-stack sockets."""

from __future__ import annotations

import pytest

from tests.core.rules.calls import NOON, call, compiled

RANGES = ["10.0.0.0/8", "192.168.1.7", "fd00::/8"]


@pytest.mark.parametrize(
    "source", ["10.1.2.3", "192.168.1.7", "fd12:3456::1", "::ffff:10.9.9.9", "[fd00::5]"]
)
def test_source_inside_a_range_is_allowed(source: str) -> None:
    assert compiled([{"sourceRanges": RANGES}]).decide(call(source_ip=source), NOON).allowed


@pytest.mark.parametrize("source", ["11.0.0.1", "192.168.1.8", "fe80::1", "::1", "127.0.0.1"])
def test_source_outside_every_range_is_denied_naming_address_and_ranges(source: str) -> None:
    decision = compiled([{"sourceRanges": RANGES}]).decide(call(source_ip=source), NOON)
    assert not decision.allowed
    assert decision.reason == (
        f"source address {source} not in [10.0.0.0/8, 192.168.1.7, fd00::/8] (rule 0 of App demo)"
    )


@pytest.mark.parametrize("source", [None, "", "not-an-ip", "10.0.0.300"])
def test_unknown_or_malformed_source_is_denied(source: str | None) -> None:
    decision = compiled([{"sourceRanges": RANGES}]).decide(call(source_ip=source), NOON)
    assert not decision.allowed
    assert decision.reason.startswith("source address unknown, only [10.0.0.0/8")


def test_ipv4_mapped_range_matches_plain_ipv4_sources() -> None:
    rules = compiled([{"sourceRanges": ["::ffff:10.0.0.0/104"]}])
    assert rules.decide(call(source_ip="10.2.3.4"), NOON).allowed
    assert not rules.decide(call(source_ip="11.2.3.4"), NOON).allowed


def test_ipv6_range_never_matches_an_ipv4_source_with_the_same_bits() -> None:
    rules = compiled([{"sourceRanges": ["::/96"]}])
    assert not rules.decide(call(source_ip="0.0.0.1"), NOON).allowed
    assert rules.decide(call(source_ip="::1"), NOON).allowed
