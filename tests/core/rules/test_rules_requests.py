"""Methods, paths and hosts: each allows and denies with a stable reason naming the rule."""

from __future__ import annotations

from tests.core.rules import calls
from tests.core.rules.calls import NOON, call, compiled


def test_a_grant_without_rules_is_allowed_with_a_reason() -> None:
    decision = compiled([]).decide(call(), NOON)
    assert decision.allowed
    assert decision.reason == "grant gh: no rules apply"
    assert decision.rule is None
    assert decision.code == "allowed"


def test_a_grant_missing_from_the_policy_is_denied_by_default() -> None:
    decision = compiled([]).decide(call(grant="other"), NOON)
    assert not decision.allowed
    assert decision.reason == "grant other is not in the compiled policy of App demo"
    assert decision.code == "policy_denied"


def test_a_call_naming_another_provider_than_the_grants_is_denied() -> None:
    decision = compiled([]).decide(call(provider="slack"), NOON)
    assert not decision.allowed
    assert "belongs to provider github" in decision.reason


def test_method_in_the_list_is_allowed() -> None:
    rules = compiled([{"methods": ["GET", "POST"]}])
    decision = rules.decide(call(method="POST"), NOON)
    assert decision.allowed
    assert decision.reason == "grant gh: passed 1 rule"


def test_method_outside_the_list_is_denied_naming_rule_and_app() -> None:
    rules = compiled([{"methods": ["HEAD"]}, {"methods": ["GET", "POST"]}])
    decision = rules.decide(call(method="DELETE"), NOON)
    assert not decision.allowed
    assert decision.reason == "method DELETE not in [HEAD] (rule 0 of App demo)"
    assert decision.rule == "spec.policy.rules[0]"
    decision = compiled([{"methods": ["GET"]}, {"methods": ["GET", "POST"]}]).decide(
        call(method="DELETE"), NOON
    )
    assert decision.reason == "method DELETE not in [GET] (rule 0 of App demo)"


def test_every_rule_must_pass_so_a_second_rule_only_restricts_further() -> None:
    rules = compiled([{"methods": ["GET", "POST"]}, {"methods": ["GET"]}])
    assert rules.decide(call(method="GET"), NOON).allowed
    decision = rules.decide(call(method="POST"), NOON)
    assert decision.reason == "method POST not in [GET] (rule 1 of App demo)"
    assert decision.rule == "spec.policy.rules[1]"


def test_a_named_rule_is_named_in_the_reason() -> None:
    decision = compiled([{"name": "read-only", "methods": ["GET"]}]).decide(
        call(method="PUT"), NOON
    )
    assert decision.reason == 'method PUT not in [GET] (rule 0 "read-only" of App demo)'


def test_path_matching_a_pattern_is_allowed() -> None:
    rules = compiled([{"paths": ["/repos/acme/**", "/user"]}])
    assert rules.decide(call(path="/repos/acme/app/issues?state=open"), NOON).allowed
    assert rules.decide(call(path="/user"), NOON).allowed


def test_path_matching_no_pattern_is_denied_with_the_path_and_patterns() -> None:
    rules = compiled([{"paths": ["/repos/acme/**", "/user"]}])
    decision = rules.decide(call(path="/repos/evil/app?token=x"), NOON)
    assert not decision.allowed
    assert decision.reason == (
        "path /repos/evil/app matches none of [/repos/acme/**, /user] (rule 0 of App demo)"
    )


def test_path_is_matched_after_normalising_escapes_never_raw() -> None:
    rules = compiled([{"paths": ["/repos/acme/**"]}])
    assert rules.decide(call(path="/repos/%61cme/app"), NOON).allowed
    # An encoded slash stays inside its segment: "acme%2Fx" is not "acme".
    assert not rules.decide(call(path="/repos/acme%2fx"), NOON).allowed
    assert rules.decide(call(path="/repos/acme/a%2fb"), NOON).allowed


def test_path_with_dot_segments_is_denied_by_path_rules() -> None:
    rules = compiled([{"paths": ["/repos/acme/**"]}])
    decision = rules.decide(call(path="/repos/acme/%2e%2e/other"), NOON)
    assert not decision.allowed
    assert decision.reason == "path has '.' or '..' segments (rule 0 of App demo)"


def test_single_star_matches_exactly_one_non_empty_segment() -> None:
    rules = compiled([{"paths": ["/repos/*/issues"]}])
    assert rules.decide(call(path="/repos/acme/issues"), NOON).allowed
    assert not rules.decide(call(path="/repos//issues"), NOON).allowed
    assert not rules.decide(call(path="/repos/acme/app/issues"), NOON).allowed


def test_host_in_the_list_is_allowed_and_another_is_denied() -> None:
    rules = compiled([{"hosts": ["api.github.com", "*.githubusercontent.com"]}])
    assert rules.decide(call(host="api.github.com"), NOON).allowed
    assert rules.decide(call(host="raw.githubusercontent.com"), NOON).allowed
    decision = rules.decide(call(host="uploads.github.com"), NOON)
    assert decision.reason == (
        "host uploads.github.com not in [api.github.com, *.githubusercontent.com] "
        "(rule 0 of App demo)"
    )


def test_host_pattern_with_a_port_matches_only_that_port() -> None:
    rules = compiled([{"hosts": ["git.example.com:8443"]}])
    assert rules.decide(call(host="git.example.com", port=8443), NOON).allowed
    decision = rules.decide(call(host="git.example.com"), NOON)
    assert (
        decision.reason == "host git.example.com not in [git.example.com:8443] (rule 0 of App demo)"
    )


def test_grant_restrictions_apply_to_that_grant_only() -> None:
    grants = {
        "gh": calls.grant(restrictions={"methods": ["GET"], "paths": ["/repos/acme/**"]}),
        "gh-admin": calls.grant(),
    }
    rules = compiled([], grants)
    decision = rules.decide(call(method="DELETE"), NOON)
    assert decision.reason == "method DELETE not in [GET] (restrictions of Grant gh)"
    assert decision.rule == "Grant gh spec.restrictions"
    assert rules.decide(call(grant="gh-admin", method="DELETE"), NOON).allowed


def test_app_rules_and_grant_restrictions_both_hold() -> None:
    grants = {"gh": calls.grant(restrictions={"paths": ["/repos/acme/**"]})}
    rules = compiled([{"methods": ["GET"]}], grants)
    assert rules.decide(call(), NOON).allowed
    assert not rules.decide(call(method="POST"), NOON).allowed
    assert not rules.decide(call(path="/orgs/acme"), NOON).allowed
    assert rules.decide(call(), NOON).reason == "grant gh: passed 2 rules"


def test_empty_lists_restrict_nothing_as_the_crd_documents() -> None:
    grants = {"gh": calls.grant(restrictions={"methods": [], "paths": []})}
    assert compiled([], grants).decide(call(method="DELETE"), NOON).allowed


def test_a_very_long_path_is_shortened_in_the_reason() -> None:
    rules = compiled([{"paths": ["/a"]}])
    decision = rules.decide(call(path="/" + "x" * 5000), NOON)
    assert not decision.allowed
    assert len(decision.reason) < 300
