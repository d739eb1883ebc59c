from __future__ import annotations

import pytest

from strongroom_sidecar import headers, identities, problems, resolution, settings, state
from tests.sidecar import builders

IDENTITY = identities.Identity(
    settings.SidecarSettings(
        control_plane_url="http://127.0.0.1:1", namespace=builders.NAMESPACE, app=builders.APP
    )
)


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


async def code_of(app: state.AppState, **values: str | None) -> str:
    call = headers.CallHeaders(target="https://api.example.com/", **values)  # type: ignore[arg-type]
    with pytest.raises(problems.Refusal) as info:
        await resolution.resolve(app, call, IDENTITY)
    return info.value.code


async def test_explicit_system_grant_is_resolved_with_its_provider() -> None:
    app = app_with(builders.grant("echo-demo"))
    resolved = await resolution.resolve(
        app, headers.CallHeaders(target="https://x/", grant="echo-demo"), IDENTITY
    )
    assert (resolved.record.name, resolved.provider.name) == ("echo-demo", "echo")
    assert resolved.principal == "system:billing"


async def test_provider_alone_picks_its_single_system_grant() -> None:
    app = app_with(builders.grant("a"), builders.grant("b", provider="other"))
    resolved = await resolution.resolve(
        app, headers.CallHeaders(target="https://x/", provider="echo"), IDENTITY
    )
    assert resolved.record.name == "a"


async def test_two_system_grants_for_one_provider_is_ambiguous_never_a_guess() -> None:
    app = app_with(builders.grant("a"), builders.grant("b"))
    assert await code_of(app, provider="echo") == "ambiguous_grant"


async def test_no_grant_and_no_provider_is_grant_unspecified() -> None:
    assert await code_of(app_with()) == "grant_unspecified"


async def test_unknown_grant_is_not_found() -> None:
    assert await code_of(app_with(), grant="nope") == "grant_not_found"


async def test_unknown_provider_is_not_found() -> None:
    assert await code_of(app_with(), provider="nope") == "provider_not_found"


async def test_grant_whose_provider_is_not_in_the_policy_is_provider_not_found() -> None:
    app = app_with()
    app.put_grant(builders.grant("orphan", provider="gone"))
    assert await code_of(app, grant="orphan") == "provider_not_found"


async def test_provider_with_only_user_grants_needs_the_user_token() -> None:
    app = app_with(builders.grant("alice", kind="user", principal_id="alice"))
    assert await code_of(app, provider="echo") == "principal_token_required"


async def test_a_user_token_to_an_app_without_identity_is_identity_not_configured() -> None:
    app = app_with(builders.grant("a"))
    assert await code_of(app, provider="echo", user_token="jwt") == "identity_not_configured"


@pytest.mark.parametrize("kind", ["user", "group"])
async def test_user_or_group_grant_without_a_token_needs_the_principal_token(kind: str) -> None:
    app = app_with(builders.grant("g", kind=kind))  # type: ignore[arg-type]
    assert await code_of(app, grant="g") == "principal_token_required"


@pytest.mark.parametrize("kind", ["user", "group"])
async def test_user_or_group_grant_with_a_token_needs_app_identity(kind: str) -> None:
    app = app_with(builders.grant("g", kind=kind))  # type: ignore[arg-type]
    assert await code_of(app, grant="g", user_token="jwt") == "identity_not_configured"


async def test_a_malformed_agent_key_is_refused() -> None:
    app = app_with(builders.grant("a"))
    assert await code_of(app, grant="a", agent_key="key") == "invalid_agent_key"


async def test_agent_grant_without_the_agent_key_is_refused() -> None:
    app = app_with(builders.grant("bot", kind="agent"))
    assert await code_of(app, grant="bot") == "invalid_agent_key"


async def test_grant_and_provider_that_disagree_name_the_provider_header() -> None:
    app = app_with(builders.grant("a"))
    call = headers.CallHeaders(target="https://x/", grant="a", provider="other")
    with pytest.raises(problems.Refusal) as info:
        await resolution.resolve(app, call, IDENTITY)
    assert info.value.code == "invalid_header"
    assert "Strongroom-Provider" in info.value.detail
