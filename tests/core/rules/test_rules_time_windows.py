"""Time windows: local wall-clock time in IANA zones, across midnight and DST changes. Every
instant is fixed; nothing sleeps."""

from __future__ import annotations

from typing import Any

from tests.core.rules.calls import at, call, compiled

BERLIN = "Europe/Berlin"
OFFICE: dict[str, Any] = {
    "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
    "start": "09:00",
    "end": "17:00",
    "zone": BERLIN,
}


def test_inside_the_window_is_allowed() -> None:
    rules = compiled([{"timeWindows": [OFFICE]}])
    assert rules.decide(call(), at("2026-03-04T09:00", BERLIN)).allowed
    assert rules.decide(call(), at("2026-03-04T16:59", BERLIN)).allowed


def test_outside_the_window_is_denied_with_the_window_in_the_reason() -> None:
    rules = compiled([{"timeWindows": [OFFICE]}])
    decision = rules.decide(call(), at("2026-03-04T17:00", BERLIN))
    assert not decision.allowed
    assert decision.reason == (
        "outside time window Mon-Fri 09:00-17:00 Europe/Berlin (rule 0 of App demo)"
    )
    assert not rules.decide(call(), at("2026-03-07T12:00", BERLIN)).allowed  # a Saturday


def test_the_zone_decides_not_utc() -> None:
    rules = compiled([{"timeWindows": [OFFICE]}])
    # 08:30 UTC is 09:30 in Berlin in winter (CET, +1).
    assert rules.decide(call(), at("2026-03-04T08:30")).allowed
    assert not rules.decide(call(), at("2026-03-04T07:30")).allowed


def test_daylight_saving_time_moves_the_window_in_utc() -> None:
    rules = compiled([{"timeWindows": [OFFICE]}])
    # 07:30 UTC: 08:30 CET on Monday 23 March (denied), 09:30 CEST on Monday 30 March (allowed).
    assert not rules.decide(call(), at("2026-03-23T07:30")).allowed
    assert rules.decide(call(), at("2026-03-30T07:30")).allowed
    # And back in autumn: 16:30 UTC is 17:30 CET after the change on 25 October.
    assert rules.decide(call(), at("2026-10-23T14:30")).allowed  # 16:30 CEST
    assert not rules.decide(call(), at("2026-10-26T16:30")).allowed  # 17:30 CET


def test_window_on_the_dst_change_day_uses_local_time() -> None:
    night = {"start": "01:00", "end": "04:00", "zone": BERLIN}
    rules = compiled([{"timeWindows": [night]}])
    # 29 March 2026: 02:00 CET jumps to 03:00 CEST; 00:30 UTC is 02:30 local... which does
    # not exist; 01:30 UTC is 03:30 CEST, inside; 02:30 UTC is 04:30 CEST, outside.
    assert rules.decide(call(), at("2026-03-29T01:30", "UTC")).allowed
    assert not rules.decide(call(), at("2026-03-29T02:30", "UTC")).allowed
    # 25 October 2026: 02:30 local happens twice; both are inside.
    assert rules.decide(call(), at("2026-10-25T02:30", BERLIN, fold=0)).allowed
    assert rules.decide(call(), at("2026-10-25T02:30", BERLIN, fold=1)).allowed


def test_window_crossing_midnight_belongs_to_the_day_it_starts() -> None:
    friday_night = {"days": ["Fri"], "start": "22:00", "end": "06:00", "zone": "UTC"}
    rules = compiled([{"timeWindows": [friday_night]}])
    assert rules.decide(call(), at("2026-03-06T23:00")).allowed  # Friday
    assert rules.decide(call(), at("2026-03-07T05:59")).allowed  # Saturday morning
    assert not rules.decide(call(), at("2026-03-07T06:00")).allowed
    assert not rules.decide(call(), at("2026-03-07T23:00")).allowed  # Saturday night
    assert not rules.decide(call(), at("2026-03-06T05:00")).allowed  # Friday morning


def test_window_crossing_midnight_on_sunday_wraps_to_monday() -> None:
    sunday_night = {"days": ["Sun"], "start": "20:00", "end": "02:00"}
    rules = compiled([{"timeWindows": [sunday_night]}])
    assert rules.decide(call(), at("2026-03-09T01:00")).allowed  # Monday 01:00
    assert not rules.decide(call(), at("2026-03-10T01:00")).allowed  # Tuesday 01:00


def test_end_of_day_is_written_24_00_and_every_day_is_the_default() -> None:
    rules = compiled([{"timeWindows": [{"start": "12:00", "end": "24:00"}]}])
    assert rules.decide(call(), at("2026-03-08T23:59")).allowed
    decision = rules.decide(call(), at("2026-03-08T11:00"))
    assert decision.reason == "outside time window daily 12:00-24:00 UTC (rule 0 of App demo)"


def test_several_windows_allow_a_call_inside_any_of_them() -> None:
    windows = [
        {"days": ["Mon"], "start": "09:00", "end": "10:00"},
        {"days": ["Wed", "Sat"], "start": "15:00", "end": "16:00", "zone": "America/New_York"},
    ]
    rules = compiled([{"timeWindows": windows}])
    assert rules.decide(call(), at("2026-03-02T09:30")).allowed
    assert rules.decide(call(), at("2026-03-04T15:30", "America/New_York")).allowed
    decision = rules.decide(call(), at("2026-03-04T09:30"))
    assert decision.reason == (
        "outside time windows Mon 09:00-10:00 UTC, Wed,Sat 15:00-16:00 America/New_York "
        "(rule 0 of App demo)"
    )
