"""System grants whose tokens the sidecar obtains with the OAuth2 client credentials grant
(``spec.credential.clientCredentials``), against the real authorization server: the first use
obtains a token, each expiry exactly one more across sidecars and concurrent calls, a refused
client makes the Grant ``NeedsReauth`` (typed SDK error) until the Provider is fixed."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import aiohttp
import pytest

import strongroom
from strongroom_core import tokens
from strongroom_core.resources import models
from strongroom_operator.reconcile import grants
from strongroom_sidecar import app as sidecar_app
from tests import canary
from tests.client_credentials import harness
from tests.refresh import harness as refresh_harness
from tests.sidecar.conftest import SidecarFactory, eventually
from tests.support.fixtures import ServerFactory
from tests.support.oauth_server import OAuthServer


def _client_credentials_calls(server: OAuthServer) -> int:
    return server.counters()["token_requests"].get("client_credentials", 0)


async def _deploy(
    factory: ServerFactory,
    api: harness.VerifyingApi,
    deployment: harness.Deployment,
    *,
    access_token_ttl: int,
    secret: str | None = None,
) -> tuple[OAuthServer, str]:
    server = factory(access_token_ttl=access_token_ttl)
    api.trust(server)
    deployment.set_client_secret(secret or server.service_client.client_secret)
    text = harness.documents(server, api.port)
    outcome = await deployment.grant_outcome(text)
    assert outcome.state == "Ready", outcome
    return server, text


async def test_first_call_obtains_a_token_the_api_verifies_and_the_marker_stays_sealed(
    oauth_server_factory: ServerFactory,
    verifying_api: harness.VerifyingApi,
    deployment: harness.Deployment,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    server, _ = await _deploy(oauth_server_factory, verifying_api, deployment, access_token_ttl=2)
    before = await deployment.record()
    assert await deployment.credential() == {"grant_type": "client_credentials"}
    assert before.token_expires_at == 0.0
    car = await make_sidecar(**harness.sidecar_settings())

    status, body = await harness.call(http, car, verifying_api.url())

    assert status == 200, body
    assert body == {"client": server.service_client.client_id, "scope": "api:read"}
    assert _client_credentials_calls(server) == 1
    after = await deployment.record()
    assert (after.state, after.generation) == ("Ready", before.generation + 1)
    credential = await deployment.credential()
    assert credential["grant_type"] == tokens.CLIENT_CREDENTIALS
    assert "refresh_token" not in credential
    assert credential["scope"] == "api:read"
    assert after.token_expires_at == pytest.approx(time.time() + 2, abs=2)
    assert server.counters()["tokens_issued"] == {"client_credentials": 1}


async def test_each_expiry_obtains_exactly_one_token_for_concurrent_calls_on_three_sidecars(
    oauth_server_factory: ServerFactory,
    verifying_api: harness.VerifyingApi,
    deployment: harness.Deployment,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    """Two-second tokens expire on their own while bursts keep coming; every call is served
    with a token the server signed and that has not expired (the API checks both)."""
    server, _ = await _deploy(oauth_server_factory, verifying_api, deployment, access_token_ttl=2)
    start = (await deployment.record()).generation
    cars = [await make_sidecar(**harness.sidecar_settings()) for _ in range(3)]

    deadline = time.monotonic() + 7.0
    while time.monotonic() < deadline:
        results = await asyncio.gather(
            *(harness.call(http, cars[i % len(cars)], verifying_api.url()) for i in range(60))
        )
        assert [status for status, _ in results] == [200] * 60, results
        await asyncio.sleep(0.2)

    async def settled() -> bool:
        """A proactive token call may be in flight as the bursts end: let it land."""
        calls = _client_credentials_calls(server)
        return calls == (await deployment.record()).generation - start

    await eventually(settled, within=5.0)
    obtained = (await deployment.record()).generation - start
    assert obtained >= 3, "several tokens expired during the test"
    assert _client_credentials_calls(server) == obtained, "one token call per expiry"
    assert obtained - 1 <= len(verifying_api.claims) <= obtained, "the last may be unused yet"
    assert sum(car.refresher.stats.refreshed for car in cars) == obtained
    assert server.counters()["token_errors"] == {}
    await deployment.credential()


async def test_an_unchanged_reconcile_keeps_the_obtained_token_and_a_new_secret_starts_over(
    oauth_server_factory: ServerFactory,
    verifying_api: harness.VerifyingApi,
    deployment: harness.Deployment,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    server, text = await _deploy(
        oauth_server_factory, verifying_api, deployment, access_token_ttl=60
    )
    car = await make_sidecar(**harness.sidecar_settings())
    assert (await harness.call(http, car, verifying_api.url()))[0] == 200
    obtained = await deployment.record()

    assert (await deployment.grant_outcome(text)).state == "Ready"
    assert await deployment.record() == obtained, "a re-reconcile does not reset the token"
    assert "access_token" in await deployment.credential()
    assert (await harness.call(http, car, verifying_api.url()))[0] == 200
    assert _client_credentials_calls(server) == 1

    deployment.set_client_secret(canary.new("rotated-client-secret"))
    await deployment.apply(text)
    reset = await deployment.record()
    assert reset.generation == obtained.generation + 1
    assert reset.token_expires_at == 0.0
    assert await deployment.credential() == {"grant_type": "client_credentials"}


async def test_a_wrong_client_secret_makes_the_grant_need_an_admin_and_the_sdk_raises(
    oauth_server_factory: ServerFactory,
    verifying_api: harness.VerifyingApi,
    deployment: harness.Deployment,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
) -> None:
    wrong = canary.new("wrong-client-secret")
    server, text = await _deploy(
        oauth_server_factory, verifying_api, deployment, access_token_ttl=2, secret=wrong
    )
    car = await make_sidecar(**harness.sidecar_settings())

    status, body = await harness.call(http, car, verifying_api.url())

    assert status == 401, body
    assert body["code"] == "reauthorization_required"
    assert "invalid_client" in body["detail"]
    assert f"Provider {harness.PROVIDER!r}" in body["detail"]
    assert "clientSecretRef" in body["detail"]
    record = await deployment.record()
    assert record.state == "NeedsReauth"
    assert "invalid_client" in record.message
    assert server.counters()["token_errors"] == {"invalid_client": 1}
    base_url = f"http://127.0.0.1:{car.proxy_port}"
    async with strongroom.AsyncApp(base_url, grant=harness.GRANT) as app:
        with pytest.raises(strongroom.ReauthorizationRequired) as raised:
            await app.get(verifying_api.url())
    assert "client credentials" in raised.value.detail
    assert _client_credentials_calls(server) == 1, "a refused client is not asked again"
    assert wrong not in repr(record)
    assert wrong not in str(body)
    events = _audit_kinds(car)
    assert ("grant.needs_reauth", "invalid_client") in events

    # The admin fixes the Provider's Secret; the next reconcile starts the Grant over.
    deployment.set_client_secret(server.service_client.client_secret)
    outcome = await deployment.grant_outcome(text)
    assert outcome.state == "Ready", outcome
    await eventually(lambda: car.state.grants[harness.GRANT].state == "Ready")
    status, body = await harness.call(http, car, verifying_api.url())
    assert status == 200, body
    assert _client_credentials_calls(server) == 2
    await deployment.credential()


def _audit_kinds(car: sidecar_app.Sidecar) -> list[tuple[str, str]]:
    return [(e["kind"], e["reason"]) for e in refresh_harness.audit_events(car)]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"principal": "user"},
            "spec.credential.clientCredentials: clientCredentials is only for principal kind "
            "system or agent",
        ),
        (
            {"principal": "group"},
            "spec.credential.clientCredentials: clientCredentials is only for principal kind "
            "system or agent",
        ),
        (
            {"credential": "{clientCredentials: {}, sealedValue: abc}"},
            "spec.credential: set exactly one of sealedValue, secretRef and clientCredentials",
        ),
        (
            {"credential": "{clientCredentials: {}, secretRef: {name: x}}"},
            "spec.credential: set exactly one of sealedValue, secretRef and clientCredentials",
        ),
        (
            {"auth_method": "none"},
            'spec.credential.clientCredentials: Provider "reports-api" has '
            "spec.oauth2.clientAuthMethod none",
        ),
    ],
)
def test_misplaced_client_credentials_are_refused_naming_the_field(
    oauth_server: OAuthServer, change: dict[str, str], expected: str
) -> None:
    text = harness.documents(oauth_server, 9, **change)  # type: ignore[arg-type]
    if change.get("auth_method") == "none":
        text = text.replace("    clientSecretRef: {name: reports-oauth}\n", "")
    _, problems = harness.load(text)
    assert len(problems) == 1, problems
    assert expected in problems[0]


@pytest.mark.parametrize(
    ("provider_change", "reason"),
    [
        ("type: secret", "ClientCredentialsNeedOAuth2"),
        ("clientAuthMethod: none", "ClientCredentialsNeedConfidentialClient"),
    ],
)
async def test_reconcile_refuses_client_credentials_the_provider_cannot_serve(
    oauth_server: OAuthServer,
    deployment: harness.Deployment,
    provider_change: str,
    reason: str,
) -> None:
    """The reference check stops these in front; the reconcile refuses them on its own too (a
    Provider edited after the Grant), leaving no record behind."""
    resources, _ = harness.load(harness.documents(oauth_server, 9))
    grant = next(r for r in resources if isinstance(r, models.Grant))
    provider = next(r for r in resources if isinstance(r, models.Provider))
    if provider_change == "type: secret":
        provider = dataclasses.replace(
            provider, type="secret", oauth2=None, secret=models.SecretSettings()
        )
    else:
        assert provider.oauth2 is not None
        oauth2 = dataclasses.replace(
            provider.oauth2, client_auth_method="none", client_secret_ref=None
        )
        provider = dataclasses.replace(provider, oauth2=oauth2)

    outcome = await grants.reconcile_grant(deployment.ctx, grant, provider)

    assert (outcome.state, outcome.reason) == ("Invalid", reason)
    assert outcome.message.startswith("spec.credential.clientCredentials: ")
    assert await deployment.storage.get_grant(harness.NS, harness.GRANT) is None
