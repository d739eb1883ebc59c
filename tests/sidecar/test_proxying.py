"""Calls that go through: the credential is injected, everything else passes untouched."""

from __future__ import annotations

import json

import aiohttp

from strongroom_sidecar import app as sidecar_app
from tests import canary
from tests.sidecar import builders
from tests.sidecar.conftest import SidecarFactory, Upstream, World, caught_up, proxy_url


async def test_credential_is_injected_and_the_upstream_sees_it(
    world: World, upstream: Upstream, make_sidecar: SidecarFactory, http: aiohttp.ClientSession
) -> None:
    token = canary.new("echo-token")
    await world.add_grant("echo-demo", {"token": token})
    car = await make_sidecar()
    async with http.get(
        proxy_url(car),
        headers={
            "Strongroom-Target": upstream.url("/echo/hello?x=1&y=two"),
            "Strongroom-Grant": "echo-demo",
            "Authorization": "Bearer the-callers-own",
            "X-Custom": "kept",
        },
    ) as response:
        assert response.status == 200
        seen = await response.json()
        audit_id = response.headers["Strongroom-Audit-Id"]
    assert seen["headers"]["Authorization"] == f"Bearer {token}"
    assert seen["headers"]["X-Custom"] == "kept"
    assert seen["path_qs"] == "/echo/hello?x=1&y=two"
    assert not any(name.lower().startswith("strongroom-") for name in seen["headers"])
    assert len(audit_id) == 32


async def test_provider_header_uses_its_single_system_grant(
    world: World, upstream: Upstream, make_sidecar: SidecarFactory, http: aiohttp.ClientSession
) -> None:
    await world.add_grant("echo-demo", {"token": "t-provider-path"})
    car = await make_sidecar()
    async with http.get(
        proxy_url(car),
        headers={"Strongroom-Target": upstream.url("/echo"), "Strongroom-Provider": "echo"},
    ) as response:
        assert response.status == 200
        assert (await response.json())["headers"]["Authorization"] == "Bearer t-provider-path"


async def test_header_and_query_injections_replace_what_the_caller_sent(
    world: World, upstream: Upstream, make_sidecar: SidecarFactory, http: aiohttp.ClientSession
) -> None:
    await world.add_provider(
        "keyed",
        builders.provider_policy(
            [f"127.0.0.1:{upstream.port}"],
            [
                {"type": "header", "name": "X-Api-Key", "format": "key={token}"},
                {"type": "query", "name": "api_key"},
            ],
        ),
    )
    await world.add_grant("keyed-grant", {"token": "s3cr3t-value"}, provider="keyed")
    car = await make_sidecar()
    async with http.post(
        proxy_url(car),
        headers={
            "Strongroom-Target": upstream.url("/echo?api_key=callers&page=2"),
            "Strongroom-Grant": "keyed-grant",
            "x-api-key": "callers-own",
        },
        data=b"payload",
    ) as response:
        assert response.status == 200
        seen = await response.json()
    assert seen["headers"]["X-Api-Key"] == "key=s3cr3t-value"
    assert "callers-own" not in json.dumps(seen["headers"])
    assert seen["query"] == {"api_key": "s3cr3t-value", "page": "2"}
    assert seen["method"] == "POST"
    assert seen["body_size"] == len(b"payload")


async def test_upstream_error_statuses_come_back_as_they_are_without_a_sidecar_error(
    world: World, upstream: Upstream, sidecar: sidecar_app.Sidecar, http: aiohttp.ClientSession
) -> None:
    await world.add_grant("echo-demo", {"token": "t"})
    await caught_up(sidecar, world.storage)
    async with http.get(
        proxy_url(sidecar),
        headers={"Strongroom-Target": upstream.url("/status/418"), "Strongroom-Grant": "echo-demo"},
    ) as response:
        assert response.status == 418
        assert await response.text() == "upstream says so"
        assert "Strongroom-Error" not in response.headers
        assert "Strongroom-Audit-Id" in response.headers


async def test_redirect_is_handed_back_not_followed_and_location_is_untouched(
    world: World, upstream: Upstream, sidecar: sidecar_app.Sidecar, http: aiohttp.ClientSession
) -> None:
    await world.add_grant("echo-demo", {"token": "t-redirect"})
    await caught_up(sidecar, world.storage)
    async with http.get(
        proxy_url(sidecar),
        headers={"Strongroom-Target": upstream.url("/redirect"), "Strongroom-Grant": "echo-demo"},
        allow_redirects=False,
    ) as response:
        assert response.status == 302
        assert response.headers["Location"] == "https://evil.example.com/steal?x=1"
    assert [s["path_qs"] for s in upstream.seen] == ["/redirect"]


async def test_later_changes_to_a_grant_reach_the_sidecar_without_restart(
    world: World, upstream: Upstream, sidecar: sidecar_app.Sidecar, http: aiohttp.ClientSession
) -> None:
    await world.add_grant("echo-demo", {"token": "first"})
    await caught_up(sidecar, world.storage)

    async def seen_token() -> str:
        async with http.get(
            proxy_url(sidecar),
            headers={"Strongroom-Target": upstream.url("/echo"), "Strongroom-Grant": "echo-demo"},
        ) as response:
            return str((await response.json())["headers"]["Authorization"])

    assert await seen_token() == "Bearer first"
    await world.reseal("echo-demo", {"token": "second"})
    await caught_up(sidecar, world.storage)
    assert await seen_token() == "Bearer second"


async def test_head_and_no_content_answers_pass_through_without_a_body(
    world: World, upstream: Upstream, sidecar: sidecar_app.Sidecar, http: aiohttp.ClientSession
) -> None:
    await world.add_grant("echo-demo", {"token": "t"})
    await caught_up(sidecar, world.storage)
    async with http.head(
        proxy_url(sidecar),
        headers={"Strongroom-Target": upstream.url("/echo"), "Strongroom-Grant": "echo-demo"},
    ) as response:
        assert response.status == 200
        assert await response.read() == b""
    async with http.get(
        proxy_url(sidecar),
        headers={"Strongroom-Target": upstream.url("/status/204"), "Strongroom-Grant": "echo-demo"},
    ) as response:
        assert response.status == 204
        assert await response.read() == b""
