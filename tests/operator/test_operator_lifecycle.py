"""Grant lifecycle: deletion through the finalizer revokes at the provider (RFC 7009, bounded
retries) and deletes the sealed record; expiry flips to Expired on time; a state a sidecar
wrote (NeedsReauth) shows in the status."""

from __future__ import annotations

import base64
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests import canary
from tests.kube import emulator
from tests.operator import conftest as c


@dataclasses.dataclass
class RevocationEndpoint:
    url: str
    calls: list[dict[str, Any]]
    failing: bool = False


@pytest.fixture
async def revocation() -> AsyncIterator[RevocationEndpoint]:
    endpoint = RevocationEndpoint("", [])

    async def revoke(request: web.Request) -> web.Response:
        form = dict(await request.post())
        endpoint.calls.append({"form": form, "authorization": request.headers.get("Authorization")})
        if endpoint.failing:
            return web.json_response({"error": "temporarily_unavailable"}, status=503)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/revoke", revoke)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    endpoint.url = f"http://127.0.0.1:{port}/revoke"
    yield endpoint
    await runner.cleanup()


async def oauth_grant(kube: emulator.KubeEmulator, endpoint: RevocationEndpoint) -> dict[str, str]:
    credential = {
        "access_token": canary.new(),
        "refresh_token": canary.new(),
        "token_type": "Bearer",
        "expires_at": str(int(time.time()) + 3600),
    }
    client_secret = canary.new()
    kube.create(c.plain_secret("gh-client", {"clientSecret": client_secret}))
    kube.create(c.app())
    kube.create(c.oauth_provider(revocationURL=endpoint.url))
    value = await c.sealed_value(kube, "alice", "gh", credential)
    kube.create(c.grant("alice", provider="gh", credential={"sealedValue": value}))
    return {**credential, "client_secret": client_secret}


def gone(kube: emulator.KubeEmulator, name: str) -> bool:
    return kube.get("grants.strongroom.dev", name, "team-a") is None


async def test_deleting_a_grant_revokes_its_tokens_and_deletes_its_record(
    kube: emulator.KubeEmulator, revocation: RevocationEndpoint
) -> None:
    async with c.operator(kube):
        sent = await oauth_grant(kube, revocation)
        await c.until(lambda: c.status(kube, "grants", "alice").get("state") == "Ready")
        assert c.record(kube, "alice") is not None
        kube.delete("grants.strongroom.dev", "alice", "team-a")
        await c.until(lambda: gone(kube, "alice"))
        await c.until(lambda: any(e["reason"] == "Revoked" for e in c.events(kube, "alice")))
    assert c.record(kube, "alice") is None
    assert [call["form"]["token_type_hint"] for call in revocation.calls] == [
        "refresh_token",
        "access_token",
    ]
    assert revocation.calls[0]["form"]["token"] == sent["refresh_token"]
    assert revocation.calls[1]["form"]["token"] == sent["access_token"]
    expected = base64.b64encode(f"client-1:{sent['client_secret']}".encode()).decode()
    assert revocation.calls[0]["authorization"] == f"Basic {expected}"
    assert "client_secret" not in revocation.calls[0]["form"]


async def test_a_failing_revocation_endpoint_delays_deletion_only_for_the_bounded_tries(
    kube: emulator.KubeEmulator, revocation: RevocationEndpoint
) -> None:
    revocation.failing = True
    async with c.operator(kube):
        await oauth_grant(kube, revocation)
        await c.until(lambda: c.status(kube, "grants", "alice").get("state") == "Ready")
        kube.delete("grants.strongroom.dev", "alice", "team-a")
        await c.until(lambda: gone(kube, "alice"))
        failed = await c.until(
            lambda: [e for e in c.events(kube, "alice") if e["reason"] == "RevocationFailed"]
        )
    assert len(revocation.calls) == 3  # OperatorSettings.revocation_attempts in the tests
    assert failed[0]["type"] == "Warning"
    assert "answered 503 (temporarily_unavailable)" in failed[0]["message"]
    assert "revoke its tokens at the provider by hand" in failed[0]["message"]
    assert c.record(kube, "alice") is None


async def test_a_grant_flips_to_expired_when_its_ttl_passes(kube: emulator.KubeEmulator) -> None:
    value = await c.sealed_value(kube, "short", "echo", {"token": canary.new()})
    async with c.operator(kube, grant_poll_seconds=30):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(c.grant("short", credential={"sealedValue": value}, ttl="2s"))
        await c.until(lambda: c.status(kube, "grants", "short").get("state") == "Ready")
        status = await c.until(
            lambda: (s := c.status(kube, "grants", "short")).get("state") == "Expired" and s,
            timeout=10,
        )
        await c.until(lambda: any(e["reason"] == "GrantExpired" for e in c.events(kube, "short")))
    assert c.record(kube, "short").state == "Expired"
    assert status["conditions"][0]["status"] == "False"


async def test_a_record_marked_needs_reauth_by_a_sidecar_shows_in_the_grant_status(
    kube: emulator.KubeEmulator,
) -> None:
    value = await c.sealed_value(kube, "deploy", "echo", {"token": canary.new()})
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(c.grant("deploy", credential={"sealedValue": value}))
        await c.until(lambda: c.status(kube, "grants", "deploy").get("state") == "Ready")
        async with c.storage_of(kube) as store:
            found = await store.get_grant("team-a", "deploy")
            assert found is not None
            refused = dataclasses.replace(
                found, state="NeedsReauth", message="the provider answered invalid_grant"
            )
            await store.replace_grant(refused, found.version)
        status = await c.until(
            lambda: (s := c.status(kube, "grants", "deploy")).get("state") == "NeedsReauth" and s
        )
    assert status["message"] == "the provider answered invalid_grant"
    assert status["conditions"][0]["reason"] == "ReauthorizationRequired"
