"""The restrictions a rule can make, compiled. Each check answers ``None`` (fine) or the first
part of a denial reason; the caller adds which rule it was. Checks hold only precomputed,
immutable data, except the zone clocks' one-second cache."""

from __future__ import annotations

from typing import Protocol

from strongroom_core import targets
from strongroom_core.rules import addresses, clocks, facts, paths

MAX_SHOWN = 200


class Check(Protocol):
    def denial(self, call: facts.CallFacts, parts: list[str] | None, now: float) -> str | None:
        """``parts``: the normalised path's segments, computed once per decision."""


def shorten(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


class Methods:
    __slots__ = ("allowed", "text")

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = frozenset(allowed)
        self.text = ", ".join(allowed)

    def denial(self, call: facts.CallFacts, parts: list[str] | None, now: float) -> str | None:
        if call.method in self.allowed:
            return None
        return f"method {shorten(call.method)} not in [{self.text}]"


class Paths:
    __slots__ = ("patterns", "text")

    def __init__(self, patterns: tuple[paths.PathPattern, ...]) -> None:
        self.patterns = patterns
        self.text = ", ".join(p.text for p in patterns)

    def denial(self, call: facts.CallFacts, parts: list[str] | None, now: float) -> str | None:
        if parts is None:
            return "path has '.' or '..' segments"
        for pattern in self.patterns:
            if pattern.matches(parts):
                return None
        return f"path {shorten(paths.normalise(call.path))} matches none of [{self.text}]"


class Hosts:
    __slots__ = ("allowed", "text")

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.allowed = targets.AllowedHosts.compile(patterns)
        self.text = ", ".join(patterns)

    def denial(self, call: facts.CallFacts, parts: list[str] | None, now: float) -> str | None:
        if self.allowed.allows(call.host, call.port):
            return None
        shown = call.host if call.port is None else f"{call.host}:{call.port}"
        return f"host {shorten(shown)} not in [{self.text}]"


class Windows:
    __slots__ = ("clocks", "text", "windows")

    def __init__(self, windows: tuple[clocks.Window, ...]) -> None:
        self.windows = windows
        self.clocks = tuple(clocks.zone_clock(w.zone) for w in windows)
        noun = "window" if len(windows) == 1 else "windows"
        self.text = f"outside time {noun} " + ", ".join(w.text for w in windows)

    def denial(self, call: facts.CallFacts, parts: list[str] | None, now: float) -> str | None:
        for window, clock in zip(self.windows, self.clocks, strict=True):
            weekday, minute = clock.local(now)
            if window.contains(weekday, minute):
                return None
        return self.text


class Sources:
    __slots__ = ("ranges", "text")

    def __init__(self, ranges: tuple[addresses.Range, ...]) -> None:
        self.ranges = ranges
        self.text = ", ".join(r.text for r in ranges)

    def denial(self, call: facts.CallFacts, parts: list[str] | None, now: float) -> str | None:
        source = call.source_ip
        address = addresses.parse_address(source) if source else None
        if address is None:
            return f"source address unknown, only [{self.text}] allowed"
        if addresses.contains(self.ranges, address):
            return None
        return f"source address {shorten(source or '')} not in [{self.text}]"


class DenyAll:
    """Stands in for a rule that could not be compiled: calls it might cover fail closed."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def denial(self, call: facts.CallFacts, parts: list[str] | None, now: float) -> str | None:
        return self.reason
