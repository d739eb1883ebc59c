"""Which rules apply to which calls: grants, providers, principal kinds and callers."""

from __future__ import annotations

from tests.core.rules import calls
from tests.core.rules.calls import NOON, call, compiled

GRANTS = {
    "gh": calls.grant(),
    "gh-bot": calls.grant(kind="agent"),
    "slack": calls.grant(provider="slack", kind="system"),
}


def test_a_rule_scoped_to_other_grants_does_not_apply() -> None:
    rules = compiled([{"grants": ["gh-bot"], "methods": ["GET"]}], GRANTS)
    assert rules.decide(call(method="DELETE"), NOON).allowed
    assert rules.rule_count("gh") == 0
    assert not rules.decide(call(grant="gh-bot", method="DELETE"), NOON).allowed


def test_a_rule_scoped_to_a_provider_applies_to_its_grants_only() -> None:
    rules = compiled([{"providers": ["slack"], "methods": ["POST"]}], GRANTS)
    assert rules.decide(call(method="GET"), NOON).allowed
    decision = rules.decide(call(grant="slack", provider="slack", method="GET"), NOON)
    assert decision.reason == "method GET not in [POST] (rule 0 of App demo)"


def test_a_rule_scoped_to_principal_kinds_applies_to_those_grants_only() -> None:
    rules = compiled([{"principals": ["agent", "system"], "methods": ["GET"]}], GRANTS)
    assert rules.decide(call(method="PUT"), NOON).allowed
    assert not rules.decide(call(grant="gh-bot", method="PUT"), NOON).allowed
    assert rules.rule_count("gh") == 0
    assert rules.rule_count("slack") == 1


def test_a_rule_scoped_to_callers_applies_to_their_calls_only() -> None:
    rules = compiled([{"callers": ["agent/ci"], "paths": ["/repos/acme/**"]}], GRANTS)
    assert rules.decide(call(path="/orgs/x"), NOON).allowed
    decision = rules.decide(call(path="/orgs/x", caller="agent/ci"), NOON)
    assert not decision.allowed


def test_selectors_combine_so_all_must_match() -> None:
    rules = compiled(
        [{"providers": ["github"], "principals": ["agent"], "methods": ["GET"]}], GRANTS
    )
    assert rules.decide(call(method="PUT"), NOON).allowed
    assert not rules.decide(call(grant="gh-bot", method="PUT"), NOON).allowed


def test_a_rule_naming_a_grant_that_does_not_exist_yet_applies_once_it_does() -> None:
    app_rules = [{"grants": ["later"], "methods": ["GET"]}]
    assert compiled(app_rules, GRANTS).rule_count("later") == 0
    rules = compiled(app_rules, {**GRANTS, "later": calls.grant()})
    assert not rules.decide(call(grant="later", method="PUT"), NOON).allowed
