from __future__ import annotations

import pytest

from strongroom_sidecar import headers, problems, resolution, state
from tests.sidecar import builders


def app_with(*grants_: object) -> state.AppState:
    app = state.AppState(builders.NAMESPACE, builders.APP)
    records_ = list(grants_)
    app.set_policy(
        builders.compiled_policy(
            {
                "echo": builders.provider_policy(["api.example.com"]),
                "other": builders.provider_policy(["api.other.com"]),
            },
            records_,  # type: ignore[arg-type]
        )
    )
    for record in records_:
        app.put_grant(record)  # type: ignore[arg-type]
    return app


def code_of(app: state.AppState, **values: str | None) -> str:
    call = headers.CallHeaders(target="https://api.example.com/", **values)  # type: ignore[arg-type]
    with pytest.raises(problems.Refusal) as info:
        resolution.resolve(app, call)
    return info.value.code


def test_explicit_system_grant_is_resolved_with_its_provider() -> None:
    app = app_with(builders.grant("echo-demo"))
    record, provider = resolution.resolve(
        app, headers.CallHeaders(target="https://x/", grant="echo-demo")
    )
    assert (record.name, provider.name) == ("echo-demo", "echo")


def test_provider_alone_picks_its_single_system_grant() -> None:
    app = app_with(builders.grant("a"), builders.grant("b", provider="other"))
    record, _ = resolution.resolve(app, headers.CallHeaders(target="https://x/", provider="echo"))
    assert record.name == "a"


def test_two_system_grants_for_one_provider_is_ambiguous_never_a_guess() -> None:
    app = app_with(builders.grant("a"), builders.grant("b"))
    assert code_of(app, provider="echo") == "ambiguous_grant"


def test_no_grant_and_no_provider_is_grant_unspecified() -> None:
    assert code_of(app_with()) == "grant_unspecified"


def test_unknown_grant_is_not_found() -> None:
    assert code_of(app_with(), grant="nope") == "grant_not_found"


def test_unknown_provider_is_not_found() -> None:
    assert code_of(app_with(), provider="nope") == "provider_not_found"


def test_grant_whose_provider_is_not_in_the_policy_is_provider_not_found() -> None:
    app = app_with()
    app.put_grant(builders.grant("orphan", provider="gone"))
    assert code_of(app, grant="orphan") == "provider_not_found"


def test_provider_with_only_user_grants_needs_the_user_token() -> None:
    app = app_with(builders.grant("alice", kind="user", principal_id="alice"))
    assert code_of(app, provider="echo") == "principal_token_required"


def test_provider_with_a_user_token_needs_jwt_identity_which_is_not_available() -> None:
    app = app_with(builders.grant("a"))
    assert code_of(app, provider="echo", user_token="jwt") == "jwt_identity_not_available"


@pytest.mark.parametrize("kind", ["user", "group"])
def test_user_or_group_grant_without_a_token_needs_the_principal_token(kind: str) -> None:
    app = app_with(builders.grant("g", kind=kind))  # type: ignore[arg-type]
    assert code_of(app, grant="g") == "principal_token_required"


@pytest.mark.parametrize("kind", ["user", "group"])
def test_user_or_group_grant_with_a_token_is_jwt_identity_not_available(kind: str) -> None:
    app = app_with(builders.grant("g", kind=kind))  # type: ignore[arg-type]
    assert code_of(app, grant="g", user_token="jwt") == "jwt_identity_not_available"


def test_agent_key_is_refused_until_the_agents_feature() -> None:
    app = app_with(builders.grant("a"))
    assert code_of(app, grant="a", agent_key="key") == "invalid_agent_key"


def test_agent_grant_is_refused_until_the_agents_feature() -> None:
    app = app_with(builders.grant("bot", kind="agent"))
    assert code_of(app, grant="bot") == "invalid_agent_key"


def test_grant_and_provider_that_disagree_name_the_provider_header() -> None:
    app = app_with(builders.grant("a"))
    call = headers.CallHeaders(target="https://x/", grant="a", provider="other")
    with pytest.raises(problems.Refusal) as info:
        resolution.resolve(app, call)
    assert info.value.code == "invalid_header"
    assert "Strongroom-Provider" in info.value.detail
