"""Health, the public sealing key, authentication, and errors for routes that do not exist."""

from __future__ import annotations

import logging

import pytest

from strongroom_core.sealing import bindings, publickey
from strongroom_operator.controlplane import auth, server
from tests.controlplane import harness as h


async def test_healthz_answers_without_a_token(harness: h.Harness) -> None:
    async with harness.client.get(f"{harness.url}/v1/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


async def test_sealing_key_is_public_and_seals_what_the_control_plane_opens(
    harness: h.Harness,
) -> None:
    async with harness.client.get(f"{harness.url}/v1/sealing-key") as response:
        assert response.status == 200
        body = await response.json()
    assert body["kid"] == harness.sealing_key.kid
    binding = bindings.ClientSealBinding("team-a", "g1", "github")
    blob = publickey.seal_to_public_key(body["publicKey"], b'{"token":"t"}', binding)
    assert publickey.open_sealed(harness.sealing_key, blob, binding) == b'{"token":"t"}'


async def test_a_request_without_a_token_is_unauthenticated_and_says_how_to_send_one(
    harness: h.Harness,
) -> None:
    async with harness.client.get(f"{harness.url}/v1/apps/team-a/shop/keys") as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        problem = await h.problem_of(response)
    assert problem["code"] == "unauthenticated"
    assert "Authorization: missing" in problem["detail"]


async def test_an_unknown_token_is_unauthenticated_and_not_echoed(harness: h.Harness) -> None:
    token = "not-a-known-token-42"
    async with harness.client.get(
        f"{harness.url}/v1/apps/team-a/shop/keys", headers=h.bearer(token)
    ) as response:
        assert response.status == 401
        text = await response.text()
    assert token not in text
    assert '"code": "unauthenticated"' in text


async def test_a_token_with_another_scheme_is_unauthenticated(harness: h.Harness) -> None:
    async with harness.client.get(
        f"{harness.url}/v1/apps/team-a/shop/keys",
        headers={"Authorization": f"Basic {h.SIDECAR_TOKEN}"},
    ) as response:
        assert response.status == 401
        problem = await h.problem_of(response)
    assert "Bearer" in problem["detail"]


async def test_an_unknown_route_is_a_not_found_problem(harness: h.Harness) -> None:
    async with harness.client.get(f"{harness.url}/v1/nothing-here", headers=h.ADMIN) as response:
        assert response.status == 404
        assert (await h.problem_of(response))["code"] == "not_found"


async def test_a_wrong_method_is_a_method_not_allowed_problem(harness: h.Harness) -> None:
    async with harness.client.delete(f"{harness.url}/v1/healthz") as response:
        assert response.status == 405
        assert (await h.problem_of(response))["code"] == "method_not_allowed"


async def test_static_tokens_are_not_shown_in_the_authenticators_repr() -> None:
    authenticator = auth.StaticTokenAuthenticator(h.CALLERS)
    assert h.SIDECAR_TOKEN not in repr(authenticator)
    assert await authenticator.authenticate(h.SIDECAR_TOKEN) == h.CALLERS[h.SIDECAR_TOKEN]
    assert await authenticator.authenticate(h.SIDECAR_TOKEN + "x") is None


class FailingAuthenticator:
    """An authentication backend that fails, quoting the token in its error as some do."""

    async def authenticate(self, token: str) -> auth.Caller | None:
        raise RuntimeError(f"backend rejected {token}")


async def test_an_unexpected_failure_is_an_internal_problem_that_logs_no_secret(
    harness: h.Harness, caplog: pytest.LogCaptureFixture
) -> None:
    cp = server.ControlPlane(
        harness.storage, harness.key_service, harness.sealing_key, FailingAuthenticator()
    )
    runner, port = await server.start(cp)
    try:
        with caplog.at_level(logging.DEBUG):
            async with harness.client.get(
                f"http://127.0.0.1:{port}/v1/apps/team-a/shop/keys", headers=h.SIDECAR
            ) as response:
                assert response.status == 500
                problem = await h.problem_of(response)
    finally:
        await runner.cleanup()
    assert problem["code"] == "internal"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "unhandled RuntimeError" in logged
    assert h.SIDECAR_TOKEN not in logged
