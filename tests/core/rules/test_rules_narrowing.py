"""Per-call narrowing (``Strongroom-Narrow``): it can only narrow, and a call outside it is
denied with a reason."""

from __future__ import annotations

import json

import pytest

from strongroom_core import rules
from tests.core.rules import calls
from tests.core.rules.calls import NOON, call, compiled


def narrow(**values: object) -> rules.Narrowing:
    return rules.parse_narrowing(json.dumps(values))


def test_call_inside_its_narrowing_is_allowed() -> None:
    cut = narrow(methods=["GET"], paths=["/repos/acme/**"], hosts=["api.github.com"])
    assert compiled([]).decide(call(narrowing=cut), NOON).allowed


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"method": "POST"}, "method POST not in [GET]"),
        (
            {"path": "/repos/other/x"},
            "path /repos/other/x matches none of [/repos/acme/**]",
        ),
        ({"host": "uploads.github.com"}, "host uploads.github.com not in [api.github.com]"),
    ],
)
def test_call_outside_its_own_narrowing_is_denied(changes: dict[str, str], reason: str) -> None:
    cut = narrow(methods=["GET"], paths=["/repos/acme/**"], hosts=["api.github.com"])
    decision = compiled([]).decide(call(narrowing=cut, **changes), NOON)
    assert not decision.allowed
    assert decision.reason == f"{reason} (narrowing asked by the caller)"
    assert decision.rule == "Strongroom-Narrow"


def test_narrowing_cannot_widen_what_a_rule_denies() -> None:
    grants = {"gh": calls.grant(restrictions={"methods": ["GET"]})}
    cut = narrow(methods=["GET", "POST", "DELETE"], paths=["/**"])
    decision = compiled([{"paths": ["/repos/acme/**"]}], grants).decide(
        call(method="DELETE", path="/orgs/x", narrowing=cut), NOON
    )
    assert not decision.allowed
    assert decision.rule == "spec.policy.rules[0]"
    decision = compiled([], grants).decide(call(method="DELETE", narrowing=cut), NOON)
    assert decision.reason == "method DELETE not in [GET] (restrictions of Grant gh)"


def test_a_call_denied_by_its_narrowing_burns_no_rate_limit_token() -> None:
    compiled_rules = compiled([{"rateLimit": {"requests": 1, "period": "1h"}}])
    cut = narrow(methods=["GET"])
    assert not compiled_rules.decide(call(method="PUT", narrowing=cut), NOON).allowed
    assert compiled_rules.decide(call(narrowing=cut), NOON).allowed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not json", "Strongroom-Narrow must be a JSON object"),
        ("[]", "Strongroom-Narrow must be a non-empty JSON object"),
        ("{}", "Strongroom-Narrow must be a non-empty JSON object"),
        ('{"quota": 1}', "Strongroom-Narrow: unknown key 'quota' (known keys: methods, paths"),
        ('{"methods": "GET"}', "Strongroom-Narrow.methods: must be a list of strings"),
        ('{"methods": ["FETCH"]}', "Strongroom-Narrow.methods[0]: must be one of: GET"),
        ('{"paths": ["/a*"]}', 'Strongroom-Narrow.paths[0]: "*" and "**" must be whole'),
        ('{"hosts": ["https://x"]}', "Strongroom-Narrow.hosts[0]: write only the host"),
        ('{"paths": ["/a"]}' + " " * 5000, "Strongroom-Narrow is longer than 4096 characters"),
    ],
)
def test_malformed_narrowing_is_refused_naming_the_header(value: str, message: str) -> None:
    with pytest.raises(rules.NarrowingError) as caught:
        rules.parse_narrowing(value)
    assert str(caught.value).startswith(message)


def test_the_same_header_value_is_parsed_once() -> None:
    value = json.dumps({"methods": ["GET"]})
    assert rules.parse_narrowing(value) is rules.parse_narrowing(value)
