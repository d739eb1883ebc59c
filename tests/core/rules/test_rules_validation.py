"""Malformed rules: every problem names its field, in resource validation and in compilation;
in the sidecar's non-strict compile a bad rule fails closed."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom_core import rules
from strongroom_core.resources import errors, parsing
from tests.core.resources import documents
from tests.core.rules import calls
from tests.core.rules.calls import NOON, call, compiled

WINDOW = {"start": "09:00", "end": "17:00"}


def app_with(rule_list: list[Any]) -> dict[str, Any]:
    document = documents.app()
    document["spec"]["policy"] = {"rules": rule_list}
    return document


def app_errors(rule_list: list[Any]) -> list[str]:
    with pytest.raises(errors.ValidationError) as caught:
        parsing.parse_resource(app_with(rule_list))
    return [str(error) for error in caught.value.errors]


def grant_errors(restrictions: dict[str, Any]) -> list[str]:
    document = documents.grant()
    document["spec"]["restrictions"] = restrictions
    with pytest.raises(errors.ValidationError) as caught:
        parsing.parse_resource(document)
    return [str(error) for error in caught.value.errors]


def test_unknown_zone_is_named_with_its_full_path() -> None:
    bad = {"methods": ["GET"], "timeWindows": [{**WINDOW, "zone": "Mars/Base"}]}
    assert app_errors([{"methods": ["GET"]}, {"paths": ["/a"]}, bad]) == [
        'spec.policy.rules[2].timeWindows[0].zone: unknown IANA zone "Mars/Base"; use a name '
        'like "Europe/Berlin" or "UTC"'
    ]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"paths": ["/repos/a*"]},
            'spec.policy.rules[0].paths[0]: "*" and "**" must be whole segments, as in '
            '"/repos/*/issues" or "/v1/**"',
        ),
        (
            {"paths": ["/repos/../x"]},
            'spec.policy.rules[0].paths[0]: cannot contain "." or ".." segments',
        ),
        (
            {"paths": ["/repos?x=1"]},
            "spec.policy.rules[0].paths[0]: matches the path only; remove the query or fragment",
        ),
        (
            {"sourceRanges": ["10.0.0.1/8"]},
            'spec.policy.rules[0].sourceRanges[0]: "10.0.0.1/8" has host bits set; write the '
            "network address, e.g. 10.0.0.0/8",
        ),
        (
            {"sourceRanges": ["10.0.0.0/33"]},
            'spec.policy.rules[0].sourceRanges[0]: "10.0.0.0/33" is not a CIDR range such as '
            "10.0.0.0/8 or fd00::/8",
        ),
        (
            {"hosts": ["https://api.github.com"]},
            "spec.policy.rules[0].hosts[0]: write only the host (and port), without scheme or "
            "path, e.g. 'api.example.com'",
        ),
        (
            {"timeWindows": [{"start": "09:00", "end": "09:00"}]},
            "spec.policy.rules[0].timeWindows[0].end: equals start; for a whole day write "
            "00:00-24:00",
        ),
        (
            {"rateLimit": {"requests": 5, "period": "0s"}},
            "spec.policy.rules[0].rateLimit.period: must be at least one second",
        ),
        (
            {"quota": {"requests": 5, "period": "day", "zone": "Nowhere/City"}},
            'spec.policy.rules[0].quota.zone: unknown IANA zone "Nowhere/City"; use a name '
            'like "Europe/Berlin" or "UTC"',
        ),
        (
            {"grants": ["gh"]},
            "spec.policy.rules[0]: sets no restriction; add at least one of methods, paths, "
            "hosts, timeWindows, sourceRanges, rateLimit, quota (rules can only restrict, a "
            "rule with selectors alone does nothing)",
        ),
    ],
)
def test_semantic_problems_name_the_field(rule: dict[str, Any], message: str) -> None:
    assert app_errors([rule]) == [message]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"timeWindows": [{"start": "9:00", "end": "17:00"}]},
            "spec.policy.rules[0].timeWindows[0].start: must match the pattern",
        ),
        (
            {"timeWindows": [{"start": "09:00", "end": "24:01"}]},
            "spec.policy.rules[0].timeWindows[0].end: must match the pattern",
        ),
        (
            {"timeWindows": [{"days": ["Monday"], **WINDOW}]},
            "spec.policy.rules[0].timeWindows[0].days[0]: must be one of: Mon, Tue",
        ),
        ({"methods": ["FETCH"]}, "spec.policy.rules[0].methods[0]: must be one of: GET"),
        ({"rateLimit": {"requests": 0, "period": "1m"}}, "spec.policy.rules[0].rateLimit"),
        ({"quota": {"requests": 5, "period": "week"}}, "spec.policy.rules[0].quota.period"),
        ({"methods": ["GET"], "regex": ".*"}, "spec.policy.rules[0].regex: unknown field"),
    ],
)
def test_structural_problems_are_caught_by_the_crd_schema(
    rule: dict[str, Any], message: str
) -> None:
    (found,) = app_errors([rule])
    assert found.startswith(message)


def test_grant_restrictions_are_checked_with_their_path() -> None:
    assert grant_errors({"timeWindows": [{**WINDOW, "zone": "Mars/Base"}]}) == [
        'spec.restrictions.timeWindows[0].zone: unknown IANA zone "Mars/Base"; use a name '
        'like "Europe/Berlin" or "UTC"'
    ]
    (found,) = grant_errors({"grants": ["x"]})
    assert found.startswith("spec.restrictions.grants: unknown field")


def test_a_valid_app_parses_with_defaults_applied_to_its_rules() -> None:
    rule = {
        "timeWindows": [WINDOW],
        "rateLimit": {"requests": 5, "period": "1m"},
        "quota": {"requests": 5, "period": "day"},
    }
    app = parsing.parse_resource(app_with([rule]))
    assert app.policy_rules == (  # type: ignore[union-attr]
        {
            "timeWindows": [{**WINDOW, "zone": "UTC"}],
            "rateLimit": {"requests": 5, "period": "1m", "per": "grant"},
            "quota": {"requests": 5, "period": "day", "zone": "UTC", "per": "grant"},
        },
    )


def test_strict_compile_lists_every_problem_with_its_resource() -> None:
    grants = {"gh": calls.grant(restrictions={"paths": ["nope"]})}
    bad_zone = {"timeWindows": [{**WINDOW, "zone": "Mars/Base"}]}
    with pytest.raises(rules.InvalidRules) as caught:
        compiled([{"methods": ["GET"]}, {"paths": ["/a"]}, bad_zone], grants)
    assert caught.value.problems == (
        'App demo: spec.policy.rules[2].timeWindows[0].zone: unknown IANA zone "Mars/Base"; '
        'use a name like "Europe/Berlin" or "UTC"',
        'Grant gh: spec.restrictions.paths[0]: must start with "/"',
    )


@pytest.mark.parametrize(
    "raw",
    [
        "not a rule",
        {"methods": "GET"},
        {"timeWindows": [{"start": 900, "end": "17:00"}]},
        {"timeWindows": "always"},
        {"rateLimit": {"requests": True, "period": "1m"}},
        {"rateLimit": 5},
        {"quota": {"requests": 1}},
        {"sourceRanges": [None]},
        {"methods": ["GET"], "per": "caller"},
    ],
)
def test_non_strict_compile_fails_closed_on_a_malformed_app_rule(raw: Any) -> None:
    compiled_rules = calls.compiled([raw, {"methods": ["GET"]}], strict=False)
    decision = compiled_rules.decide(call(), NOON)
    assert not decision.allowed
    assert decision.rule == "spec.policy.rules[0]"
    assert decision.reason.startswith("the rule is invalid (spec.policy.rules[0]")
    assert decision.reason.endswith("calls it may cover are denied (rule 0 of App demo)")


def test_non_strict_compile_fails_closed_only_for_the_grant_with_bad_restrictions() -> None:
    grants = {"gh": calls.grant(restrictions={"paths": ["nope"]}), "ok": calls.grant()}
    compiled_rules = calls.compiled([], grants, strict=False)
    decision = compiled_rules.decide(call(), NOON)
    assert not decision.allowed
    assert decision.reason == (
        'the restrictions are invalid (spec.restrictions.paths[0]: must start with "/") '
        "(restrictions of Grant gh)"
    )
    assert compiled_rules.decide(call(grant="ok"), NOON).allowed


def test_non_strict_compile_tolerates_a_junk_grant_entry() -> None:
    compiled_rules = rules.compile([], {"gh": "junk"}, app="demo", strict=False)  # type: ignore[dict-item]
    assert not compiled_rules.decide(call(), NOON).allowed
