"""Grant resolution for (provider, principal) and explicit grants needing the principal."""

from __future__ import annotations

import pytest

from strongroom_core.identity import errors, principals, resolution
from strongroom_core.storage import records

ALICE = principals.Principal("alice", ("staff", "admins"))
BOB = principals.Principal("bob", ("staff",))


def grant(name: str, kind: str, owner: str, provider: str = "github") -> resolution.Candidate:
    return resolution.Candidate(name, provider, kind, owner)


def refusal(code: str) -> pytest.RaisesExc[errors.IdentityError]:
    return pytest.raises(errors.IdentityError, check=lambda e: e.code == code)


def test_the_users_own_grant_beats_a_group_grant() -> None:
    candidates = [grant("staff-github", "group", "staff"), grant("alice-github", "user", "alice")]
    result = resolution.resolve("github", ALICE, candidates)
    assert (result.grant, result.level) == ("alice-github", "user")
    assert "alice-github" in result.reason
    assert "alice" in result.reason


def test_a_group_grant_serves_a_member_without_an_own_grant() -> None:
    candidates = [grant("staff-github", "group", "staff"), grant("alice-github", "user", "alice")]
    result = resolution.resolve("github", BOB, candidates)
    assert (result.grant, result.level) == ("staff-github", "group")


def test_two_user_grants_are_ambiguous_and_named() -> None:
    candidates = [grant("alice-b", "user", "alice"), grant("alice-a", "user", "alice")]
    with refusal("ambiguous_grant") as info:
        resolution.resolve("github", ALICE, candidates)
    assert "alice-a, alice-b" in info.value.detail
    assert info.value.status == 409


def test_two_group_grants_of_the_users_groups_are_ambiguous() -> None:
    candidates = [grant("staff-gh", "group", "staff"), grant("admins-gh", "group", "admins")]
    with refusal("ambiguous_grant") as info:
        resolution.resolve("github", ALICE, candidates)
    assert "admins-gh, staff-gh" in info.value.detail


def test_a_tie_among_groups_does_not_matter_when_the_user_has_an_own_grant() -> None:
    candidates = [
        grant("staff-gh", "group", "staff"),
        grant("admins-gh", "group", "admins"),
        grant("alice-gh", "user", "alice"),
    ]
    assert resolution.resolve("github", ALICE, candidates).grant == "alice-gh"


def test_many_ambiguous_names_are_shortened() -> None:
    candidates = [grant(f"g{i}", "user", "alice") for i in range(8)]
    with refusal("ambiguous_grant") as info:
        resolution.resolve("github", ALICE, candidates)
    assert "8 grants" in info.value.detail
    assert "..." in info.value.detail


def test_grants_of_other_providers_other_users_and_system_grants_do_not_match() -> None:
    candidates = [
        grant("alice-slack", "user", "alice", provider="slack"),
        grant("bob-github", "user", "bob"),
        grant("ops-github", "group", "ops"),
        grant("ci-github", "system", "ci"),
    ]
    with refusal("grant_not_found") as info:
        resolution.resolve("github", ALICE, candidates)
    assert info.value.status == 404


def test_grant_records_can_be_resolved_directly() -> None:
    record = records.GrantRecord(
        namespace="ns",
        name="alice-gh",
        uid="u",
        app="shop",
        provider="github",
        principal_kind="user",
        principal_id="alice",
        sealed="",
    )
    assert resolution.resolve("github", ALICE, [record]).grant == "alice-gh"
    assert resolution.authorize_explicit(record, ALICE).level == "user"


def test_an_explicit_user_grant_with_its_users_token_is_allowed() -> None:
    result = resolution.authorize_explicit(grant("alice-gh", "user", "alice"), ALICE)
    assert result.grant == "alice-gh"
    assert "alice" in result.reason


def test_an_explicit_user_grant_with_another_users_token_is_refused() -> None:
    with refusal("principal_mismatch") as info:
        resolution.authorize_explicit(grant("alice-gh", "user", "alice"), BOB)
    assert info.value.status == 403
    assert "'alice'" in info.value.detail
    assert "'bob'" in info.value.detail


@pytest.mark.parametrize("kind", ["user", "group"])
def test_an_explicit_user_or_group_grant_without_a_token_is_refused(kind: str) -> None:
    with refusal("principal_token_required") as info:
        resolution.authorize_explicit(grant("g", kind, "alice"), None)
    assert info.value.status == 401


def test_an_explicit_group_grant_needs_a_member() -> None:
    staff = grant("staff-gh", "group", "admins")
    assert resolution.authorize_explicit(staff, ALICE).level == "group"
    with refusal("principal_mismatch") as info:
        resolution.authorize_explicit(staff, BOB)
    assert "not a member" in info.value.detail


def test_an_explicit_system_grant_needs_no_token() -> None:
    for principal in (None, ALICE):
        result = resolution.authorize_explicit(grant("ci", "system", "ci"), principal)
        assert result.level == "system"


def test_an_explicit_agent_grant_is_refused_to_end_users() -> None:
    with refusal("principal_mismatch"):
        resolution.authorize_explicit(grant("bot", "agent", "bot"), ALICE)
