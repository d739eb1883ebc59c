"""Claims to principal: the App's claim mapping, nested paths, groups as list or string."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom_core.identity import errors, principals

DEFAULT = principals.ClaimMapping()


def test_the_default_mapping_reads_sub_and_groups() -> None:
    principal = principals.principal_from_claims({"sub": "alice", "groups": ["a", "b"]}, DEFAULT)
    assert principal == principals.Principal("alice", ("a", "b"))
    assert principal.audit_name == "user:alice"


def test_groups_may_be_a_space_separated_string() -> None:
    claims = {"sub": "alice", "groups": " staff  admins staff "}
    assert principals.principal_from_claims(claims, DEFAULT).groups == ("staff", "admins")


def test_no_groups_claim_means_no_groups() -> None:
    assert principals.principal_from_claims({"sub": "alice"}, DEFAULT).groups == ()


def test_dotted_paths_reach_into_nested_claims() -> None:
    mapping = principals.ClaimMapping(user_id="profile.id", groups="realm_access.roles")
    claims = {"profile": {"id": "u-1"}, "realm_access": {"roles": ["reader"]}}
    assert principals.principal_from_claims(claims, mapping) == principals.Principal(
        "u-1", ("reader",)
    )


def test_a_top_level_claim_whose_name_has_dots_wins_over_the_path() -> None:
    mapping = principals.ClaimMapping(groups="https://example.com/groups")
    claims = {"sub": "alice", "https://example.com/groups": ["x"]}
    assert principals.principal_from_claims(claims, mapping).groups == ("x",)


def test_a_numeric_user_id_is_taken_as_its_decimal_string() -> None:
    assert principals.principal_from_claims({"sub": 42}, DEFAULT).user_id == "42"


@pytest.mark.parametrize(
    "claims",
    [{}, {"sub": None}, {"sub": ""}, {"sub": ["alice"]}, {"sub": True}, {"other": "alice"}],
)
def test_a_missing_or_unusable_user_id_is_missing_claim(claims: dict[str, Any]) -> None:
    with pytest.raises(errors.IdentityError) as info:
        principals.principal_from_claims(claims, DEFAULT)
    assert info.value.code == "missing_claim"
    assert "claim sub" in info.value.detail
    assert "userId" in info.value.detail


def test_a_nested_user_id_path_that_stops_early_is_missing_claim() -> None:
    mapping = principals.ClaimMapping(user_id="a.b.c")
    with pytest.raises(errors.IdentityError) as info:
        principals.principal_from_claims({"a": {"b": "leaf"}}, mapping)
    assert info.value.code == "missing_claim"


@pytest.mark.parametrize("groups", [{"a": 1}, [1, 2], ["a", None], 7])
def test_groups_of_the_wrong_shape_are_malformed(groups: Any) -> None:
    with pytest.raises(errors.IdentityError) as info:
        principals.principal_from_claims({"sub": "alice", "groups": groups}, DEFAULT)
    assert info.value.code == "malformed_token"
    assert "claim groups" in info.value.detail


def test_too_many_groups_are_refused() -> None:
    groups = [f"g{i}" for i in range(principals.MAX_GROUPS + 1)]
    with pytest.raises(errors.IdentityError, match="more than"):
        principals.principal_from_claims({"sub": "alice", "groups": groups}, DEFAULT)
