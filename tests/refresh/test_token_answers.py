"""Token endpoints that answer differently still refresh, through the Provider's token-response
mapping: form-encoded bodies, nested tokens, no ``expires_in``, an absolute ``expires_at``, no new
refresh token. And the request the sidecar sends follows the Provider's client auth method."""

from __future__ import annotations

import time

import aiohttp
import pytest

from tests.refresh import harness, scenario
from tests.refresh import provider as provider_module

SidecarFactory = harness.SidecarFactory
Endpoint = provider_module.TokenEndpoint
Api = provider_module.Api
World = harness.RefreshWorld


async def test_expired_token_is_refreshed_before_the_call_and_the_call_says_so(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    setup = await scenario.prepare(world, token_endpoint, api)
    token_endpoint.answers.append(provider_module.slow(0.5))
    car = await scenario.sidecar(make_sidecar)

    status, body, _ = await harness.call(http, car, api.url())

    assert (status, body["ok"]) == (200, True)
    assert len(token_endpoint.calls) == 1
    form = token_endpoint.calls[0]["form"]
    assert form == {"grant_type": "refresh_token", "refresh_token": setup.first.refresh_token}
    assert token_endpoint.calls[0]["client"] == provider_module.CLIENT_ID
    assert token_endpoint.calls[0]["basic_secret_ok"]
    record = await world.grant()
    assert record.generation == 2
    assert record.claim_holder is None
    assert record.claim_expires_at is None
    assert record.token_expires_at is not None
    assert record.token_expires_at > time.time() + 3000
    assert api.seen == [token_endpoint.live_access()]
    events = harness.audit_events(car)
    use = [e for e in events if e["kind"] == "use"]
    refreshed = [e for e in events if e["kind"] == "grant.refreshed"]
    assert [e["refreshed"] for e in use] == [True]
    assert len(refreshed) == 1
    assert refreshed[0]["grant"] == harness.GRANT
    assert refreshed[0]["reason"] == "generation 2"


async def test_form_encoded_answer_is_understood(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await scenario.prepare(world, token_endpoint, api)
    token_endpoint.answers.append(
        provider_module.shaped(
            lambda i: {
                "access_token": i.access_token,
                "refresh_token": i.refresh_token,
                "token_type": "bearer",
                "expires_in": 3600,
                "scope": "repo user",
            },
            form_encoded=True,
        )
    )
    car = await scenario.sidecar(make_sidecar)

    status, _, _ = await harness.call(http, car, api.url())

    assert status == 200
    credential = await world.credential()
    assert credential["access_token"] == token_endpoint.live_access()
    assert credential["refresh_token"] == token_endpoint.live_refresh
    assert credential["scope"] == "repo user"
    assert float(credential["expires_at"]) == pytest.approx(time.time() + 3600, abs=30)


async def test_nested_tokens_are_found_through_the_mapping(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    mapping = {
        "accessToken": "authed_user.access_token",
        "refreshToken": "authed_user.refresh_token",
        "expiresIn": "authed_user.expires_in",
        "tokenType": "authed_user.token_type",
    }
    await scenario.prepare(world, token_endpoint, api, token_response=mapping)
    token_endpoint.answers.append(
        provider_module.shaped(
            lambda i: {
                "ok": True,
                "access_token": "xoxb-bot-token-not-ours",
                "authed_user": {
                    "access_token": i.access_token,
                    "refresh_token": i.refresh_token,
                    "expires_in": 600,
                    "token_type": "user",
                },
            }
        )
    )
    car = await scenario.sidecar(make_sidecar)

    status, _, _ = await harness.call(http, car, api.url())

    assert status == 200
    credential = await world.credential()
    assert credential["access_token"] == token_endpoint.live_access()
    assert credential["refresh_token"] == token_endpoint.live_refresh
    assert (await world.grant()).token_expires_at == pytest.approx(time.time() + 600, abs=30)


async def test_answer_without_expires_in_gives_a_token_without_expiry(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await scenario.prepare(world, token_endpoint, api)
    token_endpoint.answers.append(
        provider_module.shaped(
            lambda i: {"access_token": i.access_token, "refresh_token": i.refresh_token}
        )
    )
    car = await scenario.sidecar(make_sidecar)

    status, _, _ = await harness.call(http, car, api.url())

    assert status == 200
    record = await world.grant()
    assert record.token_expires_at is None
    assert "expires_at" not in await world.credential()
    status, _, _ = await harness.call(http, car, api.url())
    assert status == 200
    assert len(token_endpoint.calls) == 1, "a token without expiry is not refreshed by time"


async def test_absolute_expires_at_is_taken_as_is(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await scenario.prepare(world, token_endpoint, api, token_response={"expiresAt": "expires_at"})
    absolute = float(int(time.time()) + 7200)
    token_endpoint.answers.append(
        provider_module.shaped(
            lambda i: {
                "access_token": i.access_token,
                "refresh_token": i.refresh_token,
                "expires_at": absolute,
                "expires_in": 10,
            }
        )
    )
    car = await scenario.sidecar(make_sidecar)

    status, _, _ = await harness.call(http, car, api.url())

    assert status == 200
    assert (await world.grant()).token_expires_at == absolute


async def test_answer_without_a_new_refresh_token_keeps_the_old_one(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    setup = await scenario.prepare(world, token_endpoint, api)
    for _ in range(2):
        token_endpoint.answers.append(
            provider_module.shaped(lambda i: {"access_token": i.access_token, "expires_in": 3600})
        )
    car = await scenario.sidecar(make_sidecar)

    status, _, _ = await harness.call(http, car, api.url())
    assert status == 200
    assert (await world.credential())["refresh_token"] == setup.first.refresh_token

    await world.expire_now()
    await harness.eventually(lambda: car.state.grants[harness.GRANT].generation == 3)
    presented = [c["form"]["refresh_token"] for c in token_endpoint.calls]
    assert presented == [setup.first.refresh_token, setup.first.refresh_token]


@pytest.mark.parametrize("method", ["client_secret_post", "none"])
async def test_client_authentication_follows_the_providers_method(
    method: str,
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await scenario.prepare(
        world, token_endpoint, api, auth_method=method, with_secret=method != "none"
    )
    car = await scenario.sidecar(make_sidecar)

    status, _, _ = await harness.call(http, car, api.url())

    assert status == 200
    (request,) = token_endpoint.calls
    assert request["client"] is None, "no Basic header"
    assert request["form"]["client_id"] == provider_module.CLIENT_ID
    if method == "client_secret_post":
        assert request["form"]["client_secret"] == token_endpoint.client_secret
    else:
        assert "client_secret" not in request["form"]


async def test_scope_is_sent_only_when_the_grant_has_scopes(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await scenario.prepare(world, token_endpoint, api, scopes=("repo", "read:user"))
    car = await scenario.sidecar(make_sidecar)

    status, _, _ = await harness.call(http, car, api.url())

    assert status == 200
    assert token_endpoint.calls[0]["form"]["scope"] == "repo read:user"


async def test_provider_without_its_client_secret_keeps_serving_then_says_why(
    world: World,
    token_endpoint: Endpoint,
    api: Api,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    await scenario.prepare(world, token_endpoint, api, with_secret=False)
    car = await scenario.sidecar(make_sidecar)

    status, body, headers = await harness.call(http, car, api.url())

    assert status == 503
    assert headers["Strongroom-Error"] == "refresh_unavailable"
    assert "spec.oauth2.clientSecretRef" in body["detail"]
    assert int(headers["Retry-After"]) >= 1
    assert token_endpoint.calls == []
    assert (await world.grant()).claim_holder is None, "the claim was given back"


async def test_proactive_refresh_happens_inside_the_margin_without_any_call(
    world: World, token_endpoint: Endpoint, api: Api, make_sidecar: SidecarFactory
) -> None:
    """Margin 60 s, but the token lives 3 s: the margin is capped at half the lifetime this
    sidecar saw (1.5 s) and the jitter only moves the start later, never out of the margin."""
    setup = await scenario.prepare(world, token_endpoint, api, expires_in=3.0, margin=60)
    car = await scenario.sidecar(make_sidecar)

    await harness.eventually(lambda: car.state.grants[harness.GRANT].generation == 2, within=5)

    (request,) = token_endpoint.calls
    lifetime = 3.0
    assert request["at"] >= setup.first.expires_at - lifetime / 2 - 0.05, "inside the margin"
    assert request["at"] < setup.first.expires_at, "before the old token expired"
    assert api.seen == [], "no call was needed"
