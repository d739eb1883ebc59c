"""Refresh tokens rotate, and presenting a consumed one revokes the whole grant: the provider
behaviour that makes concurrent refreshes destroy grants, reproduced for the sidecar's tests."""

from __future__ import annotations

from tests.support import browser
from tests.support.fixtures import ServerFactory

pytestmark = browser.requires_chromium


async def test_refresh_rotates_the_refresh_token(oauth_server_factory: ServerFactory) -> None:
    server = oauth_server_factory()
    tokens = await browser.sign_in(server)

    answer = server.refresh(tokens["refresh_token"])

    assert answer.status_code == 200
    rotated = answer.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["access_token"] != tokens["access_token"]
    assert server.refresh(rotated["refresh_token"]).status_code == 200
    counters = server.counters()
    assert counters["token_requests"]["refresh_token"] == 2
    assert counters["refresh_tokens_rotated"] == 2
    assert counters["invalid_grant"] == 0


async def test_reusing_a_consumed_refresh_token_fails_and_revokes_the_newest(
    oauth_server_factory: ServerFactory,
) -> None:
    server = oauth_server_factory()
    tokens = await browser.sign_in(server)
    newest = server.refresh(tokens["refresh_token"]).json()["refresh_token"]

    reuse = server.refresh(tokens["refresh_token"])
    after = server.refresh(newest)

    assert (reuse.status_code, reuse.json()["error"]) == (400, "invalid_grant")
    assert (after.status_code, after.json()["error"]) == (400, "invalid_grant")
    counters = server.counters()
    assert counters["refresh_token_reuse"] == 1
    assert counters["grants_revoked"] == 1
    assert counters["invalid_grant"] == 2
    assert counters["token_errors"] == {"invalid_grant": 2}


async def test_invalid_grant_can_be_answered_with_401_like_some_providers(
    oauth_server_factory: ServerFactory,
) -> None:
    server = oauth_server_factory(invalid_grant_status=401)
    tokens = await browser.sign_in(server)
    server.refresh(tokens["refresh_token"])

    reuse = server.refresh(tokens["refresh_token"])

    assert (reuse.status_code, reuse.json()["error"]) == (401, "invalid_grant")


async def test_without_rotation_the_refresh_token_stays_the_same(
    oauth_server_factory: ServerFactory,
) -> None:
    server = oauth_server_factory(rotate_refresh_token=False)
    tokens = await browser.sign_in(server)

    first = server.refresh(tokens["refresh_token"]).json()
    second = server.refresh(tokens["refresh_token"]).json()

    assert first["refresh_token"] == second["refresh_token"] == tokens["refresh_token"]
    assert server.counters()["refresh_tokens_rotated"] == 0


async def test_a_provider_may_leave_the_refresh_token_out_of_refresh_answers(
    oauth_server_factory: ServerFactory,
) -> None:
    server = oauth_server_factory(
        rotate_refresh_token=False, quirks={"omit_refresh_token_on_refresh": True}
    )
    tokens = await browser.sign_in(server)

    first = server.refresh(tokens["refresh_token"]).json()
    second = server.refresh(tokens["refresh_token"])

    assert "refresh_token" not in first
    assert first["access_token"]
    assert second.status_code == 200
