"""The end user's token and the agent key never show in errors, reprs or returned objects."""

import httpx
import pytest

import strongroom

from .conftest import AGENT_KEY, USER_TOKEN, Caller, FakeSidecar, MakeCaller, sidecar_error

GITHUB = "https://api.github.com/user"


def _assert_no_secret(*texts: object) -> None:
    for text in texts:
        rendered = str(text)
        assert USER_TOKEN not in rendered
        assert AGENT_KEY not in rendered
        # Not even a recognisable piece of either.
        assert USER_TOKEN[-20:] not in rendered
        assert AGENT_KEY[-20:] not in rendered


async def test_a_sidecar_error_echoing_the_secrets_is_redacted(
    make_caller: MakeCaller, sidecar: FakeSidecar
) -> None:
    caller = make_caller(user_token=USER_TOKEN, agent_key=AGENT_KEY)
    sidecar.respond = lambda request: sidecar_error(
        401, "invalid_user_token", detail=f"token {USER_TOKEN} and key {AGENT_KEY} rejected"
    )
    with pytest.raises(strongroom.IdentityRequired) as caught:
        await caller.request("GET", GITHUB)
    error = caught.value
    assert error.detail == "token [redacted] and key [redacted] rejected"
    assert error.response is not None
    _assert_no_secret(
        error,
        repr(error),
        error.args,
        error.detail,
        error.response.request.headers,
        repr(error.response.request.headers),
    )
    assert error.response.request.headers["Strongroom-Target"] == GITHUB


async def test_responses_hold_no_steering_headers(
    make_caller: MakeCaller, sidecar: FakeSidecar
) -> None:
    caller = make_caller(user_token=USER_TOKEN, agent_key=AGENT_KEY)
    response = await caller.request("GET", GITHUB)
    _assert_no_secret(response.request.headers, repr(response.request.headers), response)


@pytest.mark.parametrize("argument", ["user_token", "agent_key"])
@pytest.mark.parametrize("broken", [" {}", "Bearer {}", "{}\n", "{}ü"])
async def test_a_malformed_secret_is_refused_without_echoing_it(
    caller: Caller, sidecar: FakeSidecar, argument: str, broken: str
) -> None:
    value = broken.format(USER_TOKEN if argument == "user_token" else AGENT_KEY)
    with pytest.raises(strongroom.UsageError, match=rf"^{argument}: ") as caught:
        await caller.request("GET", GITHUB, **{argument: value})
    _assert_no_secret(caught.value, repr(caught.value))
    assert sidecar.sent == []
    with pytest.raises(strongroom.UsageError, match=rf"^{argument}: ") as caught:
        strongroom.App(**{argument: value})  # type: ignore[arg-type]
    _assert_no_secret(caught.value, repr(caught.value))


def test_an_app_repr_says_a_secret_is_set_without_showing_it() -> None:
    for make in (strongroom.App, strongroom.AsyncApp):
        app = make(grant="g", user_token=USER_TOKEN, agent_key=AGENT_KEY)
        text = repr(app)
        _assert_no_secret(text)
        assert "user_token=<set>" in text
        assert "agent_key=<set>" in text


async def test_a_connect_error_does_not_mention_the_secrets(make_caller: MakeCaller) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with (
        strongroom.App(
            transport=httpx.MockTransport(refuse), user_token=USER_TOKEN, agent_key=AGENT_KEY
        ) as app,
        pytest.raises(strongroom.SidecarUnavailable) as caught,
    ):
        app.get(GITHUB)
    _assert_no_secret(caught.value, repr(caught.value))
