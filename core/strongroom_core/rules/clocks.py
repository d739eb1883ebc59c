"""Local wall-clock time in IANA zones, for time windows and calendar quotas.

``zoneinfo`` does the DST arithmetic; a :class:`ZoneClock` remembers the last second it converted,
so the many decisions inside one second share one conversion (the hot path's only datetime work).
"""

from __future__ import annotations

import datetime
import functools
import zoneinfo
from dataclasses import dataclass

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MINUTES_PER_DAY = 1440


def zone_problem(name: str) -> str | None:
    """Why ``name`` is not a usable IANA zone, or ``None``."""
    try:
        load_zone(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return f'unknown IANA zone "{name[:64]}"; use a name like "Europe/Berlin" or "UTC"'
    return None


@functools.cache
def load_zone(name: str) -> zoneinfo.ZoneInfo:
    """Raises ``ZoneInfoNotFoundError`` or ``ValueError`` for a name that is not a zone."""
    if not name or name.startswith("/") or ".." in name or "\\" in name:
        raise ValueError(name)
    return zoneinfo.ZoneInfo(name)


class ZoneClock:
    """Converts unix seconds to (weekday, minute of day) in one zone, caching the last second."""

    __slots__ = ("_minute", "_second", "_weekday", "name", "zone")

    def __init__(self, name: str) -> None:
        self.name = name
        self.zone = load_zone(name)
        self._second = -1
        self._weekday = 0
        self._minute = 0

    def local(self, now: float) -> tuple[int, int]:
        """``(weekday, minute_of_day)``, Monday is 0."""
        second = int(now // 1)
        if second != self._second:
            moment = datetime.datetime.fromtimestamp(second, self.zone)
            self._weekday = moment.weekday()
            self._minute = moment.hour * 60 + moment.minute
            self._second = second
        return self._weekday, self._minute


@functools.cache
def zone_clock(name: str) -> ZoneClock:
    """One shared clock per zone: every rule in that zone hits the same cache."""
    return ZoneClock(name)


def parse_hhmm(text: str) -> int | None:
    """``"09:30"`` → 570; ``"24:00"`` → 1440; ``None`` when malformed."""
    if len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit():
        return None
    hours, minutes = int(text[:2]), int(text[3:])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


@dataclass(frozen=True, slots=True)
class Window:
    """A window of local time. ``end <= start`` crosses midnight: it starts on one of ``days``
    and ends on the next day."""

    days: frozenset[int]
    start: int
    end: int
    zone: str
    text: str
    """Human form for reasons: ``Mon-Fri 09:00-17:00 Europe/Berlin``."""

    def contains(self, weekday: int, minute: int) -> bool:
        if self.start < self.end:
            return weekday in self.days and self.start <= minute < self.end
        if minute >= self.start:
            return weekday in self.days
        return minute < self.end and (weekday - 1) % 7 in self.days


def describe_days(days: frozenset[int]) -> str:
    """``{0,1,2,3,4}`` → ``Mon-Fri``; ``{0,2}`` → ``Mon,Wed``; all seven → ``daily``."""
    if len(days) == 7:
        return "daily"
    runs: list[str] = []
    ordered = sorted(days)
    index = 0
    while index < len(ordered):
        end = index
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        first, last = DAYS[ordered[index]], DAYS[ordered[end]]
        runs.append(first if index == end else f"{first}-{last}")
        index = end + 1
    return ",".join(runs)


def window(days: frozenset[int], start: int, end: int, zone: str) -> Window:
    text = f"{describe_days(days)} {_hhmm(start)}-{_hhmm(end)} {zone}"
    return Window(days, start, end, zone, text)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def period_bounds(now: float, period: str, zone: str) -> tuple[float, float]:
    """Start and end (unix seconds) of the calendar ``hour`` or ``day`` in ``zone`` holding
    ``now``. A day is 23 or 25 hours long across a DST change; an hour is always 3600 seconds,
    counted from the local hour's start (the repeated hour of a fall-back counts twice)."""
    tz = load_zone(zone)
    moment = datetime.datetime.fromtimestamp(now, tz)
    if period == "hour":
        start = now - (moment.minute * 60 + moment.second + moment.microsecond / 1e6)
        return start, start + 3600.0
    day = moment.date()
    midnight = datetime.datetime.combine(day, datetime.time(0), tzinfo=tz).timestamp()
    following = day + datetime.timedelta(days=1)
    next_midnight = datetime.datetime.combine(following, datetime.time(0), tzinfo=tz).timestamp()
    return min(midnight, now), next_midnight


def describe_instant(moment: float, zone: str) -> str:
    """``2026-11-29 00:00 Europe/Berlin``: when a quota resets, for reasons."""
    local = datetime.datetime.fromtimestamp(moment, load_zone(zone))
    return f"{local:%Y-%m-%d %H:%M} {zone}"
