"""Every rule type allows and denies through the real sidecar, with the reason in the audit
record the control plane stored; rate limits and quotas answer 429 with Retry-After; a caller's
narrowing only narrows."""

from __future__ import annotations

import json

import pytest

from strongroom_cli.devmode import environment
from tests.jwt_e2e import devworld

# grant → (allowed call, denied call or None, text the denial reason contains)
CASES: dict[str, tuple[dict[str, str], dict[str, str], str]] = {
    "methods": (
        {"grant": "r-methods", "method": "GET"},
        {"grant": "r-methods", "method": "POST"},
        "method POST not in [GET] (restrictions of Grant r-methods)",
    ),
    "paths": (
        {"grant": "r-paths", "path": "/repos/acme/site"},
        {"grant": "r-paths", "path": "/repos/evil/site"},
        'path /repos/evil/site matches none of [/repos/acme/**] (rule 0 "acme-paths" of App demo)',
    ),
    "hosts": (
        {"grant": "r-hosts-ok"},
        {"grant": "r-hosts-no"},
        "not in [api.example.com] (rule 2 of App demo)",
    ),
    "time_windows": (
        {"grant": "r-window-ok"},
        {"grant": "r-window-no"},
        "outside time window",
    ),
    "source_ranges": (
        {"grant": "r-source-ok"},
        {"grant": "r-source-no"},
        "source address 127.0.0.1 not in [10.0.0.0/8] (rule 6 of App demo)",
    ),
    "callers": (
        {"grant": "r-callers", "method": "GET"},
        {"grant": "r-callers", "method": "DELETE"},
        'method DELETE not in [GET] (rule 9 "sidecar-reads" of App demo)',
    ),
}


async def _call(env: environment.DevEnvironment, spec: dict[str, str]) -> devworld.Reply:
    return await devworld.call(
        env,
        {
            "Strongroom-Grant": spec["grant"],
            **({"Strongroom-Narrow": spec["narrow"]} if "narrow" in spec else {}),
        },
        path=spec.get("path", "/x"),
        method=spec.get("method", "GET"),
    )


@pytest.mark.parametrize("rule", sorted(CASES))
async def test_each_rule_type_allows_and_denies_with_its_reason_in_audit(
    policy_env: environment.DevEnvironment, rule: str
) -> None:
    allowed_call, denied_call, reason = CASES[rule]
    allowed = await _call(policy_env, allowed_call)
    assert allowed.status == 200, allowed
    assert allowed.body["credential_ok"] is True
    allow_event = await devworld.audit_event(policy_env, allowed.audit_id)
    assert allow_event["decision"] == "allow"
    assert f"grant {allowed_call['grant']}: passed 1 rule" in allow_event["reason"]

    denied = await _call(policy_env, denied_call)
    assert (denied.status, denied.code) == (403, "policy_denied"), denied
    assert reason in denied.body["detail"]
    deny_event = await devworld.audit_event(policy_env, denied.audit_id)
    assert (deny_event["decision"], deny_event["status"]) == ("deny", 403)
    assert deny_event["reason"].startswith("policy_denied: ")
    assert reason in deny_event["reason"]


async def test_a_rate_limit_answers_429_with_retry_after_once_the_bucket_is_empty(
    policy_env: environment.DevEnvironment,
) -> None:
    for _ in range(2):
        assert (await _call(policy_env, {"grant": "r-rate"})).status == 200
    limited = await _call(policy_env, {"grant": "r-rate"})
    assert (limited.status, limited.code) == (429, "rate_limited")
    retry_after = int(limited.headers["Retry-After"])
    assert 1 <= retry_after <= 1800
    event = await devworld.audit_event(policy_env, limited.audit_id)
    assert event["reason"].startswith(
        "rate_limited: rate limit 2/h for grant r-rate exceeded (rule 7 of App demo)"
    )
    # Another grant is not affected: the bucket is per grant.
    assert (await _call(policy_env, {"grant": "r-open"})).status == 200


async def test_a_quota_answers_429_quota_exceeded_until_the_period_ends(
    policy_env: environment.DevEnvironment,
) -> None:
    assert (await _call(policy_env, {"grant": "r-quota"})).status == 200
    used_up = await _call(policy_env, {"grant": "r-quota"})
    assert (used_up.status, used_up.code) == (429, "quota_exceeded")
    assert 1 <= int(used_up.headers["Retry-After"]) <= 86400
    event = await devworld.audit_event(policy_env, used_up.audit_id)
    assert event["reason"].startswith("quota_exceeded: quota 1/day for grant r-quota used up")


async def test_narrowing_asked_by_the_caller_denies_outside_it_and_allows_inside(
    policy_env: environment.DevEnvironment,
) -> None:
    narrow = json.dumps({"methods": ["GET"], "paths": ["/reports/**"]})
    inside = await _call(policy_env, {"grant": "r-open", "path": "/reports/q1", "narrow": narrow})
    assert inside.status == 200, inside
    outside = await _call(policy_env, {"grant": "r-open", "path": "/admin", "narrow": narrow})
    assert (outside.status, outside.code) == (403, "policy_denied")
    event = await devworld.audit_event(policy_env, outside.audit_id)
    assert "(narrowing asked by the caller)" in event["reason"]
    post = await _call(
        policy_env, {"grant": "r-open", "path": "/reports/q1", "method": "POST", "narrow": narrow}
    )
    assert post.code == "policy_denied"


async def test_narrowing_cannot_widen_what_a_rule_denies(
    policy_env: environment.DevEnvironment,
) -> None:
    narrow = json.dumps({"methods": ["POST"]})
    reply = await _call(policy_env, {"grant": "r-methods", "method": "POST", "narrow": narrow})
    assert (reply.status, reply.code) == (403, "policy_denied")
    assert "restrictions of Grant r-methods" in reply.body["detail"]


@pytest.mark.parametrize(
    "value", ["[1]", "not json", '{"colors": ["red"]}', '{"methods": ["FETCH"]}']
)
async def test_a_malformed_narrowing_is_invalid_header_naming_it(
    policy_env: environment.DevEnvironment, value: str
) -> None:
    reply = await _call(policy_env, {"grant": "r-open", "narrow": value})
    assert (reply.status, reply.code) == (400, "invalid_header")
    assert "Strongroom-Narrow" in reply.body["detail"]
