"""Path patterns: ``*`` is one non-empty segment, ``**`` any number of segments (none too),
anything else is literal. Never a regular expression from users: matching is a linear scan of
segments, so no pattern can make a decision slow.

Both sides are normalised the same way before they meet. The sidecar hands over the path that
``targets.check_target`` produced (dot segments refused, non-ASCII percent-encoded); here the query
is cut off, percent-escapes of unreserved characters are decoded (``%61`` is ``a``, as every
server reads it) and the others are upper-cased (``%2f`` is ``%2F``). An encoded slash stays
inside its segment: ``/projects/acme%2Fweb`` has two segments, as GitLab reads it.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

ONE = "*"
ANY = "**"
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _unescape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def normalise(path: str) -> str:
    """The path without query or fragment, escapes normalised; always starts with ``/``."""
    if path[:1] == "/" and path.isascii() and "?" not in path and "#" not in path:
        return _ESCAPE.sub(_unescape, path) if "%" in path else path
    end = len(path)
    for delimiter in "?#":
        found = path.find(delimiter)
        if found != -1 and found < end:
            end = found
    path = path[:end]
    if not path.startswith("/"):
        path = "/" + path
    if not path.isascii():
        path = urllib.parse.quote(path, safe="".join(map(chr, range(33, 127))))
    if "%" in path:
        path = _ESCAPE.sub(_unescape, path)
    return path


def segments(normalised: str) -> list[str]:
    """``/a/b/`` → ``["a", "b", ""]``; ``/`` → ``[""]``."""
    return normalised[1:].split("/")


def has_dot_segment(parts: list[str]) -> bool:
    return any(part in (".", "..") for part in parts)


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used, or ``None``."""
    if not pattern.startswith("/"):
        return 'must start with "/"'
    if "?" in pattern or "#" in pattern:
        return "matches the path only; remove the query or fragment"
    if not pattern.isprintable() or " " in pattern or "\\" in pattern:
        return "cannot contain spaces, backslashes or control characters"
    for part in segments(normalise(pattern)):
        if "*" in part and part not in (ONE, ANY):
            return '"*" and "**" must be whole segments, as in "/repos/*/issues" or "/v1/**"'
        if part in (".", ".."):
            return 'cannot contain "." or ".." segments'
    return None


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A compiled pattern. Build with :func:`compile_pattern` (after :func:`pattern_problem`)."""

    text: str
    parts: tuple[str, ...]
    prefix: tuple[str, ...] | None
    """Set when the only ``**`` is the last segment: then matching is a prefix test."""
    has_any: bool

    def matches(self, path_parts: list[str]) -> bool:
        """Whether the segments of a normalised path match."""
        parts = self.parts
        if not self.has_any:
            return len(path_parts) == len(parts) and _leading_match(parts, path_parts)
        prefix = self.prefix
        if prefix is not None:
            return len(path_parts) >= len(prefix) and _leading_match(prefix, path_parts)
        return _glob(parts, path_parts)


def _leading_match(wanted: tuple[str, ...], path_parts: list[str]) -> bool:
    """Whether the first ``len(wanted)`` segments match, each literally or as ``*`` (any
    non-empty segment); the caller has checked there are that many."""
    for want, got in zip(wanted, path_parts, strict=False):
        if want == ONE:
            if not got:
                return False
        elif want != got:
            return False
    return True


def _glob(parts: tuple[str, ...], path_parts: list[str]) -> bool:
    """Wildcard matching with backtracking to the last ``**`` only: O(len(parts) * len(path))."""
    p = s = 0
    star = -1
    resume = 0
    while s < len(path_parts):
        if p < len(parts) and parts[p] == ANY:
            star, resume = p, s
            p += 1
        elif p < len(parts) and (
            parts[p] == path_parts[s] or (parts[p] == ONE and path_parts[s] != "")
        ):
            p += 1
            s += 1
        elif star != -1:
            p = star + 1
            resume += 1
            s = resume
        else:
            return False
    while p < len(parts) and parts[p] == ANY:
        p += 1
    return p == len(parts)


def compile_pattern(pattern: str) -> PathPattern:
    parts = tuple(segments(normalise(pattern)))
    # Two "**" in a row mean the same as one; collapsing keeps the scan short.
    collapsed: list[str] = []
    for part in parts:
        if part == ANY and collapsed and collapsed[-1] == ANY:
            continue
        collapsed.append(part)
    parts = tuple(collapsed)
    has_any = ANY in parts
    prefix = parts[:-1] if has_any and parts.index(ANY) == len(parts) - 1 else None
    return PathPattern(pattern, parts, prefix, has_any)
