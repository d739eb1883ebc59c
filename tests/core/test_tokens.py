import pytest

from strongroom_core import tokens


def test_standard_response_is_normalised_with_expiry_from_expires_in() -> None:
    credential = tokens.normalize(
        {"access_token": "a", "refresh_token": "r", "expires_in": 3600, "token_type": "bearer"},
        received_at=1000.0,
    )
    assert credential == {
        "access_token": "a",
        "refresh_token": "r",
        "token_type": "bearer",
        "expires_at": "4600.0",
    }
    assert tokens.expires_at_of(credential) == 4600.0


def test_nested_tokens_follow_the_mapping() -> None:
    response = {"ok": True, "authed_user": {"access_token": "xoxp", "scope": "chat:write"}}
    credential = tokens.normalize(
        response,
        {"accessToken": "authed_user.access_token", "scope": "authed_user.scope"},
    )
    assert credential["access_token"] == "xoxp"
    assert credential["scope"] == "chat:write"
    assert "expires_at" not in credential


def test_absolute_expires_at_wins_over_expires_in() -> None:
    credential = tokens.normalize(
        {"access_token": "a", "expires_at": 5000, "expires_in": 10},
        {"expiresAt": "expires_at"},
        received_at=0.0,
    )
    assert tokens.expires_at_of(credential) == 5000.0


def test_a_response_without_refresh_token_keeps_the_previous_one() -> None:
    credential = tokens.normalize({"access_token": "new"}, previous_refresh_token="old-refresh")
    assert credential["refresh_token"] == "old-refresh"


def test_missing_access_token_names_the_field_and_not_a_value() -> None:
    with pytest.raises(tokens.TokenResponseError, match=r"authed_user\.access_token: required"):
        tokens.normalize({"refresh_token": "SECRET-R"}, {"accessToken": "authed_user.access_token"})


def test_non_numeric_expiry_is_refused_without_echoing_it() -> None:
    with pytest.raises(tokens.TokenResponseError) as caught:
        tokens.normalize({"access_token": "a", "expires_in": "soon-SECRET"})
    assert "expires_in" in str(caught.value)
    assert "SECRET" not in str(caught.value)


def test_list_scopes_are_joined_with_spaces() -> None:
    assert tokens.normalize({"access_token": "a", "scope": ["x", "y"]})["scope"] == "x y"


def test_a_wrapped_token_response_unwraps_through_the_mapping() -> None:
    wrapped = tokens.wrap_token_response(
        {"authed_user": {"access_token": "xoxp"}, "expires_in": 60}, received_at=100.0
    )
    assert tokens.is_wrapped_token_response(wrapped)
    credential = tokens.unwrap(wrapped, {"accessToken": "authed_user.access_token"})
    assert credential["access_token"] == "xoxp"
    assert tokens.expires_at_of(credential) == 160.0


def test_a_malformed_wrapper_is_refused() -> None:
    with pytest.raises(tokens.TokenResponseError, match="malformed wrapper"):
        tokens.unwrap({"format": tokens.TOKEN_RESPONSE_FORMAT, "response": "{"}, None)
