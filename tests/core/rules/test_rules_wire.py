"""From parsed resources to the wire form the operator stores, to the sidecar's compile."""

from __future__ import annotations

import json
from typing import Any

from strongroom_core import policy, rules
from strongroom_core.resources import models, parsing
from tests.core.resources import documents
from tests.core.rules.calls import NOON, call


def parsed_app(rule_list: list[dict[str, Any]]) -> models.App:
    document = documents.app()
    document["spec"]["policy"] = {"rules": rule_list}
    app = parsing.parse_resource(document)
    assert isinstance(app, models.App)
    return app


def parsed_grant(name: str, restrictions: dict[str, Any] | None, app: str = "demo") -> models.Grant:
    document = documents.grant()
    document["metadata"]["name"] = name
    document["spec"]["appRef"] = app
    if restrictions is not None:
        document["spec"]["restrictions"] = restrictions
    grant = parsing.parse_resource(document)
    assert isinstance(grant, models.Grant)
    return grant


def policy_of(app: models.App, grants: list[models.Grant]) -> policy.CompiledPolicy:
    """What reconcile would emit, using rules.to_wire."""
    wire_rules, restrictions = rules.to_wire(app, grants)
    entries: dict[str, policy.GrantPolicy] = {}
    for grant in grants:
        entry: policy.GrantPolicy = {
            "provider": grant.provider_ref,
            "principal": {"kind": grant.principal.kind, "id": grant.principal.id},
            "scopes": list(grant.scopes),
        }
        if grant.meta.name in restrictions:
            entry["restrictions"] = restrictions[grant.meta.name]
        entries[grant.meta.name] = entry
    compiled: policy.CompiledPolicy = {
        "namespace": "default",
        "app": "demo",
        "digest": "",
        "providers": {},
        "grants": entries,
        "rules": [dict(rule) for rule in wire_rules],
    }
    # The wire form survives the JSON watch stream unchanged.
    return json.loads(json.dumps(compiled))  # type: ignore[no-any-return]


def test_wire_form_is_the_crd_spelling_with_defaults() -> None:
    app = parsed_app([{"name": "office", "timeWindows": [{"start": "09:00", "end": "17:00"}]}])
    restricted = parsed_grant(
        "alice-example", {"methods": ["GET"], "quota": {"requests": 9, "period": "hour"}}
    )
    plain = parsed_grant("bob-example", None)
    other_app = parsed_grant("carol-example", {"methods": ["GET"]}, app="another")
    wire_rules, restrictions = rules.to_wire(app, [restricted, plain, other_app])
    assert wire_rules == [
        {"name": "office", "timeWindows": [{"start": "09:00", "end": "17:00", "zone": "UTC"}]}
    ]
    assert restrictions == {
        "alice-example": {
            "methods": ["GET"],
            "quota": {"requests": 9, "period": "hour", "zone": "UTC", "per": "grant"},
        }
    }


def test_every_restriction_kind_reaches_the_wire() -> None:
    given = {
        "methods": ["GET"],
        "paths": ["/v1/**"],
        "hosts": ["api.example.com"],
        "timeWindows": [{"days": ["Mon"], "start": "22:00", "end": "02:00", "zone": "Asia/Tokyo"}],
        "sourceRanges": ["10.0.0.0/8"],
        "rateLimit": {"requests": 3, "period": "1s", "burst": 6, "per": "caller"},
        "quota": {"requests": 100, "period": "day", "zone": "UTC", "per": "grantAndCaller"},
    }
    assert rules.restrictions(parsed_grant("alice-example", given)) == given


def test_sidecar_compile_of_the_stored_policy_decides_like_the_resources_say() -> None:
    app = parsed_app([{"principals": ["user"], "methods": ["GET", "HEAD"]}])
    grant = parsed_grant("alice-example", {"paths": ["/repos/acme/**"]})
    compiled_rules = rules.compile_policy(policy_of(app, [grant]))
    facts = {"grant": "alice-example", "provider": "example", "host": "api.example.com"}
    assert compiled_rules.decide(call(**facts), NOON).allowed
    assert compiled_rules.decide(call(method="POST", **facts), NOON).reason == (
        "method POST not in [GET, HEAD] (rule 0 of App demo)"
    )
    assert compiled_rules.decide(call(path="/orgs", **facts), NOON).reason == (
        "path /orgs matches none of [/repos/acme/**] (restrictions of Grant alice-example)"
    )


def test_sidecar_compile_keeps_counts_across_policy_updates() -> None:
    app = parsed_app([{"rateLimit": {"requests": 1, "period": "1h"}}])
    grant = parsed_grant("alice-example", None)
    facts = {"grant": "alice-example", "provider": "example"}
    first = rules.compile_policy(policy_of(app, [grant]))
    assert first.decide(call(**facts), NOON).allowed
    second = rules.compile_policy(policy_of(app, [grant]), previous=first)
    assert second.decide(call(**facts), NOON).code == "rate_limited"


def test_public_names_are_listed() -> None:
    assert sorted(rules.__all__) == sorted(
        [
            "NARROW_HEADER",
            "CallFacts",
            "CompiledRules",
            "Decision",
            "DecisionCode",
            "InvalidRules",
            "Narrowing",
            "NarrowingError",
            "app_rules",
            "check_app_rules",
            "check_restrictions",
            "compile",
            "compile_policy",
            "parse_narrowing",
            "restrictions",
            "to_wire",
        ]
    )
