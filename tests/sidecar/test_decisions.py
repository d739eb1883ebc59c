from __future__ import annotations

import time

import pytest

from strongroom_sidecar import decisions, problems
from tests.sidecar import builders


def policy_for(*grants: object) -> object:
    return builders.compiled_policy(
        {"echo": builders.provider_policy(["api.example.com"])},
        list(grants),  # type: ignore[arg-type]
    )


def code(record: object, compiled: object | None = None) -> str:
    with pytest.raises(problems.Refusal) as info:
        decisions.decide(
            record,  # type: ignore[arg-type]
            compiled if compiled is not None else policy_for(record),  # type: ignore[arg-type]
            time.time(),
        )
    return info.value.code


def test_ready_grant_listed_in_policy_is_allowed_with_a_reason() -> None:
    record = builders.grant()
    decision = decisions.decide(record, policy_for(record), time.time())  # type: ignore[arg-type]
    assert "echo-demo" in decision.reason


def test_grant_missing_from_the_compiled_policy_is_denied_by_default() -> None:
    assert code(builders.grant(), policy_for()) == "policy_denied"


def test_no_policy_at_all_is_denied() -> None:
    with pytest.raises(problems.Refusal) as info:
        decisions.decide(builders.grant(), None, time.time())
    assert info.value.code == "policy_denied"


def test_revoked_grant_is_gone() -> None:
    assert code(builders.grant(state="Revoked")) == "grant_revoked"


def test_expired_state_is_gone() -> None:
    assert code(builders.grant(state="Expired")) == "grant_expired"


def test_grant_past_its_expiry_is_gone_even_if_status_still_says_ready() -> None:
    assert code(builders.grant(grant_expires_at=time.time() - 1)) == "grant_expired"


def test_grant_needing_reauthorization_answers_401() -> None:
    assert code(builders.grant(state="NeedsReauth")) == "reauthorization_required"


def test_grant_without_a_credential_is_unavailable() -> None:
    assert code(builders.grant(sealed="")) == "credential_unavailable"


def test_principal_that_differs_from_the_policy_is_denied() -> None:
    listed = builders.grant(principal_id="someone-else")
    assert code(builders.grant(), policy_for(listed)) == "policy_denied"
