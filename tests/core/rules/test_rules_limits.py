"""Rate limits (token buckets) and quotas, driven by explicit instants."""

from __future__ import annotations

import pytest

from tests.core.rules import calls
from tests.core.rules.calls import NOON, at, call, compiled


def test_rate_limit_allows_a_burst_then_denies_with_reason_and_retry_after() -> None:
    rules = compiled([{"rateLimit": {"requests": 10, "period": "1m", "per": "grant"}}])
    for _ in range(10):
        assert rules.decide(call(), NOON).allowed
    decision = rules.decide(call(), NOON)
    assert not decision.allowed
    assert decision.reason == "rate limit 10/min for grant gh exceeded (rule 0 of App demo)"
    assert decision.code == "rate_limited"
    assert decision.retry_after == pytest.approx(6.0)


def test_token_bucket_refills_at_the_rate() -> None:
    rules = compiled([{"rateLimit": {"requests": 10, "period": "1m", "per": "grant"}}])
    for _ in range(10):
        rules.decide(call(), NOON)
    assert not rules.decide(call(), NOON + 5.9).allowed
    assert rules.decide(call(), NOON + 6.0).allowed  # one token back after 6 s
    assert not rules.decide(call(), NOON + 6.0).allowed
    # A long pause fills the bucket to its size, never beyond.
    allowed = sum(rules.decide(call(), NOON + 3600).allowed for _ in range(20))
    assert allowed == 10


def test_burst_sets_the_bucket_size_apart_from_the_rate() -> None:
    rules = compiled([{"rateLimit": {"requests": 1, "period": "1s", "burst": 3, "per": "grant"}}])
    assert [rules.decide(call(), NOON).allowed for _ in range(4)] == [True, True, True, False]
    assert rules.decide(call(), NOON + 1).allowed


def test_rate_limit_per_grant_counts_each_grant_apart() -> None:
    grants = {"gh": calls.grant(), "gh2": calls.grant()}
    rules = compiled([{"rateLimit": {"requests": 1, "period": "1h", "per": "grant"}}], grants)
    assert rules.decide(call(), NOON).allowed
    assert not rules.decide(call(), NOON).allowed
    assert rules.decide(call(grant="gh2"), NOON).allowed


def test_rate_limit_per_caller_is_shared_across_grants_and_split_by_caller() -> None:
    grants = {"gh": calls.grant(), "gh2": calls.grant()}
    rules = compiled([{"rateLimit": {"requests": 1, "period": "1h", "per": "caller"}}], grants)
    assert rules.decide(call(caller="agent/a"), NOON).allowed
    decision = rules.decide(call(grant="gh2", caller="agent/a"), NOON)
    assert decision.reason == "rate limit 1/h for caller agent/a exceeded (rule 0 of App demo)"
    assert rules.decide(call(grant="gh2", caller="agent/b"), NOON).allowed


def test_rate_limit_per_grant_and_caller_counts_each_pair() -> None:
    grants = {"gh": calls.grant(), "gh2": calls.grant()}
    limit = {"requests": 1, "period": "1d", "per": "grantAndCaller"}
    rules = compiled([{"rateLimit": limit}], grants)
    assert rules.decide(call(caller="agent/a"), NOON).allowed
    assert rules.decide(call(grant="gh2", caller="agent/a"), NOON).allowed
    decision = rules.decide(call(caller="agent/a"), NOON)
    assert decision.reason == (
        "rate limit 1/day for grant gh and caller agent/a exceeded (rule 0 of App demo)"
    )


def test_a_call_denied_by_another_rule_burns_no_token() -> None:
    rules = compiled(
        [
            {"rateLimit": {"requests": 1, "period": "1h", "per": "grant"}},
            {"methods": ["GET"]},
        ]
    )
    for _ in range(5):
        assert not rules.decide(call(method="DELETE"), NOON).allowed
    assert rules.decide(call(), NOON).allowed


def test_a_call_denied_by_one_limit_burns_nothing_of_another() -> None:
    grants = {"gh": calls.grant(restrictions={"quota": {"requests": 2, "period": "day"}})}
    rules = compiled([{"rateLimit": {"requests": 1, "period": "1h", "per": "grant"}}], grants)
    assert rules.decide(call(), NOON).allowed
    for _ in range(3):
        assert rules.decide(call(), NOON).code == "rate_limited"
    # The quota was charged once only: one more call fits after the bucket refills.
    assert rules.decide(call(), NOON + 3600).allowed
    assert rules.decide(call(), NOON + 7200).code == "quota_exceeded"


def test_quota_denies_once_used_up_and_resets_at_midnight_in_its_zone() -> None:
    quota = {"requests": 2, "period": "day", "zone": "Europe/Berlin", "per": "grant"}
    rules = compiled([{"quota": quota}])
    evening = at("2026-03-04T23:58", "Europe/Berlin")
    assert rules.decide(call(), evening).allowed
    assert rules.decide(call(), evening).allowed
    decision = rules.decide(call(), evening + 60)
    assert not decision.allowed
    assert decision.code == "quota_exceeded"
    assert decision.reason == (
        "quota 2/day for grant gh used up until 2026-03-05 00:00 Europe/Berlin (rule 0 of App demo)"
    )
    assert decision.retry_after == pytest.approx(60.0)
    assert rules.decide(call(), at("2026-03-05T00:00", "Europe/Berlin")).allowed


def test_hourly_quota_resets_on_the_hour() -> None:
    rules = compiled([{"quota": {"requests": 1, "period": "hour"}}])
    assert rules.decide(call(), at("2026-03-04T10:00")).allowed
    assert not rules.decide(call(), at("2026-03-04T10:59:59")).allowed
    assert rules.decide(call(), at("2026-03-04T11:00")).allowed


def test_hourly_quota_follows_half_hour_zones() -> None:
    rules = compiled([{"quota": {"requests": 1, "period": "hour", "zone": "Asia/Kolkata"}}])
    assert rules.decide(call(), at("2026-03-04T10:10")).allowed  # 15:40 in Kolkata
    assert not rules.decide(call(), at("2026-03-04T10:29")).allowed  # 15:59
    assert rules.decide(call(), at("2026-03-04T10:30")).allowed  # 16:00


def test_quota_day_is_23_hours_long_when_dst_starts() -> None:
    rules = compiled([{"quota": {"requests": 1, "period": "day", "zone": "Europe/Berlin"}}])
    assert rules.decide(call(), at("2026-03-29T00:30", "Europe/Berlin")).allowed
    denied = rules.decide(call(), at("2026-03-29T23:30", "Europe/Berlin"))
    assert not denied.allowed
    assert denied.retry_after == pytest.approx(1800.0)
    assert rules.decide(call(), at("2026-03-30T00:00", "Europe/Berlin")).allowed


def test_counts_survive_a_recompile_when_the_limit_did_not_change() -> None:
    app_rules = [{"rateLimit": {"requests": 1, "period": "1h", "per": "grant"}}]
    first = compiled(app_rules)
    assert first.decide(call(), NOON).allowed
    second = compiled(app_rules, {"gh": calls.grant(), "new": calls.grant()}, previous=first)
    assert not second.decide(call(), NOON).allowed
    changed = compiled(
        [{"rateLimit": {"requests": 2, "period": "1h", "per": "grant"}}], previous=second
    )
    assert changed.decide(call(), NOON).allowed


def test_limits_scoped_to_callers_count_only_those_callers() -> None:
    rules = compiled(
        [{"callers": ["agent/bot"], "rateLimit": {"requests": 1, "period": "1h", "per": "grant"}}]
    )
    assert rules.decide(call(caller="agent/bot"), NOON).allowed
    assert not rules.decide(call(caller="agent/bot"), NOON).allowed
    assert rules.decide(call(caller="pod/web-1"), NOON).allowed
