"""Hypothesis: random paths never crash the matcher, and ``*``/``**`` agree with a reference
definition written the obvious (exponential, recursive) way."""

from __future__ import annotations

import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom_core.rules import paths
from tests.core.rules.calls import NOON, call, compiled

SEGMENT = st.sampled_from(["a", "b", "", "*x", "%2F", "c.d"])
PATTERN_SEGMENT = st.sampled_from(["a", "b", "*", "**"])


def reference(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    @functools.cache
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(path)
        if pattern[i] == "**":
            return any(match(i + 1, k) for k in range(j, len(path) + 1))
        if j == len(path):
            return False
        if pattern[i] == "*":
            return path[j] != "" and match(i + 1, j + 1)
        return pattern[i] == path[j] and match(i + 1, j + 1)

    return match(0, 0)


@settings(max_examples=400)
@given(st.lists(PATTERN_SEGMENT, min_size=1, max_size=6), st.lists(SEGMENT, max_size=8))
def test_matcher_agrees_with_the_reference(pattern: list[str], path: list[str]) -> None:
    text = "/" + "/".join(pattern)
    compiled = paths.compile_pattern(text)
    parts = paths.segments(paths.normalise("/" + "/".join(path)))
    assert compiled.matches(parts) == reference(tuple(pattern), tuple(parts))


@given(st.lists(st.sampled_from(["a", "b", "*"]), max_size=4), st.lists(SEGMENT, max_size=8))
def test_trailing_double_star_matches_exactly_the_paths_below_the_prefix(
    prefix: list[str], rest: list[str]
) -> None:
    pattern = paths.compile_pattern("/" + "/".join([*prefix, "**"]))
    below = paths.segments("/" + "/".join(["a"] * len(prefix) + rest))
    concrete = [("a" if p == "*" else p) for p in prefix]
    expected = all(p in ("*", "a") for p in prefix)
    assert pattern.matches(paths.segments("/" + "/".join([*concrete, *rest]))) is True
    assert pattern.matches(below) is expected


@given(st.lists(SEGMENT, max_size=10))
def test_double_star_alone_matches_every_path(path: list[str]) -> None:
    assert paths.compile_pattern("/**").matches(paths.segments("/" + "/".join(path)))


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_random_paths_never_crash_a_decision(path: str) -> None:
    rules = compiled([{"paths": ["/repos/*/issues/**", "/a/**/b/*"]}])
    decision = rules.decide(call(path=path), NOON)
    assert isinstance(decision.allowed, bool)
    assert len(decision.reason) < 400


@settings(max_examples=300)
@given(st.text(max_size=100))
def test_random_patterns_are_refused_or_compile(pattern: str) -> None:
    if paths.pattern_problem(pattern) is None:
        compiled_pattern = paths.compile_pattern(pattern)
        compiled_pattern.matches(paths.segments(paths.normalise(pattern)))
