"""The SDK against the real sidecar and control plane (dev mode), sync and async, and every typed
error the sidecar can answer with."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import httpx
import pytest

import strongroom
from strongroom_cli.devmode import environment
from strongroom_core.resources import models

# The sync client blocks its thread, and the servers run on this test's event loop: sync calls
# run in a worker thread (asyncio.to_thread) so the loop keeps serving them.


async def test_sync_call_reaches_the_upstream_with_the_credential_injected(
    dev_env: environment.DevEnvironment,
) -> None:
    def call() -> httpx.Response:
        with strongroom.App(dev_env.sidecar_url) as app:
            return app.get(f"{dev_env.echo_url}/hello", grant="echo-demo", params={"q": "1"})

    response = await asyncio.to_thread(call)
    assert response.status_code == 200
    body = response.json()
    assert body["credential_ok"] is True
    assert body["path"] == "/hello"
    assert not any(name.startswith("strongroom-") for name in body["headers"])
    assert response.headers["Strongroom-Audit-Id"]


async def test_async_call_posts_a_json_body_through_the_sidecar(
    dev_env: environment.DevEnvironment,
) -> None:
    async with strongroom.AsyncApp(dev_env.sidecar_url) as app:
        response = await app.post(
            f"{dev_env.echo_url}/items", grant="echo-demo", json={"name": "x" * 1000}
        )
    body = response.json()
    assert body["method"] == "POST"
    encoded = httpx.Request("POST", "http://x", json={"name": "x" * 1000}).content
    assert body["body_bytes"] == len(encoded)
    assert body["credential_ok"] is True


async def test_async_streaming_download_through_the_sidecar(
    dev_env: environment.DevEnvironment,
) -> None:
    async with (
        strongroom.AsyncApp(dev_env.sidecar_url) as app,
        app.stream("GET", f"{dev_env.echo_url}/stream", grant="echo-demo") as response,
    ):
        chunks = [chunk async for chunk in response.aiter_bytes()]
    assert json.loads(b"".join(chunks))["credential_ok"] is True


async def test_the_provider_alone_resolves_its_single_system_grant(
    dev_env: environment.DevEnvironment,
) -> None:
    def call() -> httpx.Response:
        with strongroom.App(dev_env.sidecar_url) as app:
            return app.get(f"{dev_env.echo_url}/x", provider="echo")

    assert (await asyncio.to_thread(call)).json()["credential_ok"] is True


@pytest.mark.parametrize(
    ("kwargs", "error", "code"),
    [
        ({"grant": "nope"}, strongroom.GrantNotFound, "grant_not_found"),
        ({"provider": "nope"}, strongroom.GrantNotFound, "provider_not_found"),
        ({}, strongroom.InvalidRequest, "grant_unspecified"),
        ({"provider": "twin"}, strongroom.AmbiguousGrant, "ambiguous_grant"),
        ({"grant": "alice-echo"}, strongroom.IdentityRequired, "principal_token_required"),
        (
            {"grant": "alice-echo", "user_token": "a.b.c"},
            strongroom.IdentityRequired,
            "identity_not_configured",
        ),
        ({"grant": "expired-echo"}, strongroom.GrantRevoked, "grant_expired"),
    ],
)
async def test_sidecar_refusals_map_to_typed_errors_in_both_clients(
    dev_env: environment.DevEnvironment,
    kwargs: dict[str, str],
    error: type[strongroom.SidecarError],
    code: str,
) -> None:
    url = f"{dev_env.echo_url}/x"

    def call() -> None:
        with strongroom.App(dev_env.sidecar_url) as app:
            app.get(url, **kwargs)  # type: ignore[arg-type]

    with pytest.raises(error) as caught:
        await asyncio.to_thread(call)
    assert caught.value.code == code
    async with strongroom.AsyncApp(dev_env.sidecar_url) as app:
        with pytest.raises(error) as caught_async:
            await app.get(url, **kwargs)  # type: ignore[arg-type]
    assert caught_async.value.code == code


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("http://127.0.0.2:9/x", "host_not_allowed"),
        ("https://example.com/x", "host_not_allowed"),
    ],
)
async def test_credentials_are_not_sent_outside_the_allow_list(
    dev_env: environment.DevEnvironment, target: str, code: str
) -> None:
    async with strongroom.AsyncApp(dev_env.sidecar_url) as app:
        with pytest.raises(strongroom.PolicyDenied) as caught:
            await app.get(target, grant="echo-demo")
    assert caught.value.code == code


async def test_an_unreachable_upstream_is_an_upstream_error(
    dev_env: environment.DevEnvironment,
) -> None:
    deadend = next(
        r for r in dev_env.loaded.resources if r.ref == ("Provider", "default", "deadend")
    )
    assert isinstance(deadend, models.Provider)
    async with strongroom.AsyncApp(dev_env.sidecar_url) as app:
        with pytest.raises(strongroom.UpstreamError) as caught:
            await app.get(f"http://{deadend.allowed_hosts[0]}/x", grant="deadend-demo")
    assert caught.value.code == "upstream_error"


async def _set_state(env: environment.DevEnvironment, name: str, **changes: object) -> None:
    record = await env.storage.get_grant("default", name)
    assert record is not None
    await env.storage.replace_grant(dataclasses.replace(record, **changes), record.version)  # type: ignore[arg-type]


async def _eventually_raises(
    app: strongroom.AsyncApp, url: str, error: type[Exception]
) -> Exception:
    for _ in range(100):
        try:
            await app.get(url, grant="echo-demo")
        except error as caught:
            return caught
        await asyncio.sleep(0.05)
    raise AssertionError(f"{error.__name__} never raised")


async def test_a_grant_needing_reauthorization_raises_reauthorization_required(
    dev_env: environment.DevEnvironment,
) -> None:
    await _set_state(dev_env, "echo-demo", state="NeedsReauth", message="invalid_grant")
    async with strongroom.AsyncApp(dev_env.sidecar_url) as app:
        await _eventually_raises(app, f"{dev_env.echo_url}/x", strongroom.ReauthorizationRequired)


async def test_a_revoked_grant_raises_grant_revoked(dev_env: environment.DevEnvironment) -> None:
    await _set_state(dev_env, "echo-demo", state="Revoked")
    async with strongroom.AsyncApp(dev_env.sidecar_url) as app:
        caught = await _eventually_raises(app, f"{dev_env.echo_url}/x", strongroom.GrantRevoked)
    assert isinstance(caught, strongroom.GrantRevoked)
    assert caught.code == "grant_revoked"


async def test_a_credential_sealed_for_another_grant_is_credential_unavailable(
    dev_env: environment.DevEnvironment,
) -> None:
    other = await dev_env.storage.get_grant("default", "twin-a")
    assert other is not None
    await _set_state(dev_env, "echo-demo", sealed=other.sealed, generation=99)
    async with strongroom.AsyncApp(dev_env.sidecar_url) as app:
        await _eventually_raises(app, f"{dev_env.echo_url}/x", strongroom.CredentialUnavailable)


async def test_a_full_audit_buffer_with_the_collector_down_raises_audit_unavailable(
    dev_folder,
    tmp_path,
    echo_port,  # type: ignore[no-untyped-def]
) -> None:
    from tests.devfixtures import options

    env = await environment.DevEnvironment.start(
        options(dev_folder, tmp_path / "state", echo_port, audit_buffer_size=2)
    )
    try:
        await env._control_plane.cleanup()  # the collector goes away
        async with strongroom.AsyncApp(env.sidecar_url) as app:
            statuses = []
            for _ in range(10):
                try:
                    await app.get(f"{env.echo_url}/x", grant="echo-demo")
                    statuses.append("ok")
                except strongroom.AuditUnavailable as e:
                    statuses.append(e.code)
        # two events fit the buffer; every call after that fails closed
        assert statuses[:2] == ["ok", "ok"]
        assert set(statuses[2:]) == {"audit_unavailable"}
    finally:
        await env.stop()


def test_a_sidecar_that_is_not_there_raises_sidecar_unavailable() -> None:
    from tests.devfixtures import free_port

    app = strongroom.App(f"http://127.0.0.1:{free_port()}")
    with app, pytest.raises(strongroom.SidecarUnavailable):
        app.get("https://api.github.com/user", grant="x")


async def test_a_grant_without_a_credential_yet_says_so(
    dev_env: environment.DevEnvironment,
) -> None:
    async with strongroom.AsyncApp(dev_env.sidecar_url) as app:
        with pytest.raises(strongroom.GrantNotFound) as caught:
            await app.get("https://api.stripe.com/v1/charges", grant="stripe-billing")
    assert "has no credential yet" in str(caught.value)


async def test_a_call_outside_its_own_narrowing_is_refused(
    dev_env: environment.DevEnvironment,
) -> None:
    async with strongroom.AsyncApp(dev_env.sidecar_url) as app:
        allowed = await app.get(
            f"{dev_env.echo_url}/repos/acme/x", grant="echo-demo", narrow={"paths": ["/repos/**"]}
        )
        assert allowed.json()["credential_ok"] is True
        with pytest.raises(strongroom.PolicyDenied) as caught:
            await app.delete(
                f"{dev_env.echo_url}/repos/acme/x", grant="echo-demo", narrow={"methods": ["GET"]}
            )
    assert caught.value.code == "policy_denied"
    assert "Strongroom-Narrow" in caught.value.detail or "narrow" in caught.value.detail.lower()
