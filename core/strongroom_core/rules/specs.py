"""Read one rule (an App's ``spec.policy.rules[i]`` or a Grant's ``spec.restrictions``) into a
typed :class:`RuleSpec`, collecting every problem with its field path.

The same reader serves resource validation (after the CRD schema passed, so only the semantic
checks can fail: zones, CIDRs, patterns) and the sidecar's compilation of the wire form (which it
must not trust blindly: a malformed entry there fails closed, never open).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from strongroom_core import targets
from strongroom_core.resources import errors
from strongroom_core.rules import addresses, clocks, paths

_Compiled = TypeVar("_Compiled")

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PRINCIPAL_KINDS = ("user", "group", "system", "agent")
LIMIT_SCOPES = ("grant", "caller", "grantAndCaller")
SELECTORS = ("name", "grants", "providers", "principals", "callers")
RESTRICTIONS = (
    "methods",
    "paths",
    "hosts",
    "timeWindows",
    "sourceRanges",
    "rateLimit",
    "quota",
)
_DURATION = re.compile(r"^([0-9]+[smhd])+$")
_DURATION_PART = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class RateLimit:
    requests: int
    period_seconds: int
    burst: int
    per: str
    text: str
    """``10/min``, ``100/h``, ``5 per 90s``."""


@dataclass(frozen=True, slots=True)
class Quota:
    requests: int
    period: str
    zone: str
    per: str


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A checked rule. ``None`` means "not set" (no restriction, or no selector)."""

    name: str | None = None
    grants: frozenset[str] | None = None
    providers: frozenset[str] | None = None
    principals: frozenset[str] | None = None
    callers: frozenset[str] | None = None
    methods: tuple[str, ...] | None = None
    paths: tuple[paths.PathPattern, ...] | None = None
    hosts: tuple[str, ...] | None = None
    windows: tuple[clocks.Window, ...] | None = None
    source_ranges: tuple[addresses.Range, ...] | None = None
    rate_limit: RateLimit | None = None
    quota: Quota | None = None


def duration_seconds(text: str) -> int:
    """``"1m30s"`` → 90 (``text`` matched the duration pattern)."""
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))


def describe_rate(requests: int, seconds: int) -> str:
    unit = {1: "s", 60: "min", 3600: "h", 86400: "day"}.get(seconds)
    return f"{requests}/{unit}" if unit else f"{requests} per {seconds}s"


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.found: list[errors.FieldError] = []

    def add(self, where: str, message: str) -> None:
        self.found.append(errors.FieldError(where, message))

    def strings(
        self, raw: Mapping[str, Any], key: str, *, choices: tuple[str, ...] | None = None
    ) -> tuple[str, ...] | None:
        if key not in raw or raw[key] is None:
            return None
        value, where = raw[key], f"{self.path}.{key}"
        if not isinstance(value, list | tuple):
            self.add(where, "must be a list of strings")
            return None
        kept: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item:
                self.add(f"{where}[{index}]", "must be a non-empty string")
            elif choices is not None and item not in choices:
                self.add(f"{where}[{index}]", "must be one of: " + ", ".join(choices))
            else:
                kept.append(item)
        # Empty means "not set", as the CRD has always documented ("all when empty").
        return tuple(kept) if value else None

    def integer(self, raw: Mapping[str, Any], key: str, where: str, *, required: bool) -> int:
        value = raw.get(key)
        if value is None:
            if required:
                self.add(f"{where}.{key}", "required")
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.add(f"{where}.{key}", "must be a positive integer")
            return 0
        return value

    def choice(
        self, raw: Mapping[str, Any], key: str, where: str, choices: tuple[str, ...], default: str
    ) -> str:
        value = raw.get(key, default)
        if value not in choices:
            self.add(f"{where}.{key}", "must be one of: " + ", ".join(choices))
            return default
        return str(value)

    def zone(self, raw: Mapping[str, Any], where: str) -> str:
        value = raw.get("zone", "UTC")
        if not isinstance(value, str):
            self.add(f"{where}.zone", "must be a string")
            return "UTC"
        problem = clocks.zone_problem(value)
        if problem is not None:
            self.add(f"{where}.zone", problem)
            return "UTC"
        return value


def read(raw: Any, path: str, *, selectors: bool) -> tuple[RuleSpec, list[errors.FieldError]]:
    """The rule at ``path`` and its problems (the spec is meaningful only without problems).
    ``selectors`` is True for App rules; a Grant's restrictions have none."""
    reader = _Reader(path)
    if not isinstance(raw, Mapping):
        reader.add(path, "must be an object")
        return RuleSpec(), reader.found
    known = (SELECTORS + RESTRICTIONS) if selectors else RESTRICTIONS
    for key in raw:
        if key not in known:
            reader.add(f"{path}.{key}", "unknown field (known fields: " + ", ".join(known) + ")")
    spec = RuleSpec(
        name=_name(raw, reader) if selectors else None,
        grants=_set(reader.strings(raw, "grants")) if selectors else None,
        providers=_set(reader.strings(raw, "providers")) if selectors else None,
        principals=_set(reader.strings(raw, "principals", choices=PRINCIPAL_KINDS))
        if selectors
        else None,
        callers=_set(reader.strings(raw, "callers")) if selectors else None,
        methods=reader.strings(raw, "methods", choices=METHODS),
        paths=_paths(raw, reader),
        hosts=_hosts(raw, reader),
        windows=_windows(raw, reader),
        source_ranges=_ranges(raw, reader),
        rate_limit=_rate_limit(raw, reader),
        quota=_quota(raw, reader),
    )
    if selectors and not any(raw.get(key) for key in RESTRICTIONS):
        reader.add(
            path,
            "sets no restriction; add at least one of " + ", ".join(RESTRICTIONS) + " "
            "(rules can only restrict, a rule with selectors alone does nothing)",
        )
    return spec, reader.found


def _set(values: tuple[str, ...] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def _name(raw: Mapping[str, Any], reader: _Reader) -> str | None:
    value = raw.get("name")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 63 or not _NAME.match(value):
        reader.add(
            f"{reader.path}.name",
            "must be lowercase letters, digits and '-', starting and ending with a letter or "
            "digit (at most 63 characters)",
        )
        return None
    return value


def _paths(raw: Mapping[str, Any], reader: _Reader) -> tuple[paths.PathPattern, ...] | None:
    return _checked_list(raw, "paths", reader, paths.pattern_problem, paths.compile_pattern)


def _hosts(raw: Mapping[str, Any], reader: _Reader) -> tuple[str, ...] | None:
    return _checked_list(raw, "hosts", reader, targets.validate_host_pattern, str)


def _ranges(raw: Mapping[str, Any], reader: _Reader) -> tuple[addresses.Range, ...] | None:
    return _checked_list(
        raw, "sourceRanges", reader, addresses.range_problem, addresses.compile_range
    )


def _checked_list(
    raw: Mapping[str, Any],
    key: str,
    reader: _Reader,
    problem_of: Callable[[str], str | None],
    compile_one: Callable[[str], _Compiled],
) -> tuple[_Compiled, ...] | None:
    """A list of strings each checked by ``problem_of`` (its problem is reported at
    ``<key>[<index>]``) and compiled by ``compile_one`` when it has none; ``None`` when unset."""
    if reader.strings(raw, key) is None:
        return None
    compiled: list[_Compiled] = []
    for index, text in enumerate(raw[key]):
        if not isinstance(text, str) or not text:
            continue  # reader.strings reported it
        problem = problem_of(text)
        if problem is not None:
            reader.add(f"{reader.path}.{key}[{index}]", problem)
        else:
            compiled.append(compile_one(text))
    return tuple(compiled)


def _windows(raw: Mapping[str, Any], reader: _Reader) -> tuple[clocks.Window, ...] | None:
    value = raw.get("timeWindows")
    if value is None:
        return None
    where = f"{reader.path}.timeWindows"
    if not isinstance(value, list | tuple):
        reader.add(where, "must be a list of windows")
        return ()
    if not value:
        return None
    windows: list[clocks.Window] = []
    for index, item in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            reader.add(here, "must be an object with start, end, and optionally days and zone")
            continue
        for key in item:
            if key not in ("days", "start", "end", "zone"):
                reader.add(f"{here}.{key}", "unknown field (known fields: days, end, start, zone)")
        days = _days(item, here, reader)
        start = _time(item, "start", here, reader, allow_24=False)
        end = _time(item, "end", here, reader, allow_24=True)
        zone = reader.zone(item, here)
        if start is not None and end is not None:
            if start == end:
                reader.add(f"{here}.end", "equals start; for a whole day write 00:00-24:00")
            else:
                windows.append(clocks.window(days, start, end, zone))
    return tuple(windows)


def _days(item: Mapping[str, Any], here: str, reader: _Reader) -> frozenset[int]:
    value = item.get("days")
    if value is None:
        return frozenset(range(7))
    if not isinstance(value, list | tuple) or not value:
        reader.add(f"{here}.days", "must be a non-empty list of Mon, Tue, Wed, Thu, Fri, Sat, Sun")
        return frozenset()
    days: set[int] = set()
    for index, day in enumerate(value):
        if day not in clocks.DAYS:
            reader.add(f"{here}.days[{index}]", "must be one of: " + ", ".join(clocks.DAYS))
        else:
            days.add(clocks.DAYS.index(day))
    return frozenset(days)


def _time(
    item: Mapping[str, Any], key: str, here: str, reader: _Reader, *, allow_24: bool
) -> int | None:
    value = item.get(key)
    if value is None:
        reader.add(f"{here}.{key}", "required")
        return None
    minutes = clocks.parse_hhmm(value) if isinstance(value, str) else None
    if minutes is None or (minutes == 1440 and not allow_24):
        reader.add(
            f"{here}.{key}",
            "must be a time HH:MM on a 24-hour clock" + (" or 24:00" if allow_24 else ""),
        )
        return None
    return minutes


def _limit_mapping(
    raw: Mapping[str, Any], key: str, reader: _Reader, fields: tuple[str, ...]
) -> Mapping[str, Any] | None:
    """The object at ``key`` (``None`` when unset or not an object), its unknown fields
    reported."""
    value = raw.get(key)
    if value is None:
        return None
    where = f"{reader.path}.{key}"
    if not isinstance(value, Mapping):
        reader.add(where, "must be an object")
        return None
    for name in value:
        if name not in fields:
            known = ", ".join(sorted(fields))
            reader.add(f"{where}.{name}", f"unknown field (known fields: {known})")
    return value


def _rate_limit(raw: Mapping[str, Any], reader: _Reader) -> RateLimit | None:
    value = _limit_mapping(raw, "rateLimit", reader, ("requests", "period", "burst", "per"))
    if value is None:
        return None
    where = f"{reader.path}.rateLimit"
    requests = reader.integer(value, "requests", where, required=True)
    burst = reader.integer(value, "burst", where, required=False) or requests
    per = reader.choice(value, "per", where, LIMIT_SCOPES, "grant")
    period = value.get("period")
    seconds = 0
    if period is None:
        reader.add(f"{where}.period", "required")
    elif not isinstance(period, str) or not _DURATION.match(period):
        reader.add(f"{where}.period", 'must be a duration such as "1s", "1m", "1h" or "1d"')
    else:
        seconds = duration_seconds(period)
        if seconds < 1:
            reader.add(f"{where}.period", "must be at least one second")
    return RateLimit(requests, seconds, burst, per, describe_rate(requests, seconds))


def _quota(raw: Mapping[str, Any], reader: _Reader) -> Quota | None:
    value = _limit_mapping(raw, "quota", reader, ("requests", "period", "zone", "per"))
    if value is None:
        return None
    where = f"{reader.path}.quota"
    requests = reader.integer(value, "requests", where, required=True)
    if value.get("period") is None:
        reader.add(f"{where}.period", "required")
        period = "day"
    else:
        period = reader.choice(value, "period", where, ("hour", "day"), "day")
    return Quota(
        requests,
        period,
        reader.zone(value, where),
        reader.choice(value, "per", where, LIMIT_SCOPES, "grant"),
    )
