"""Every refusal: status, ``Strongroom-Error``, problem+json body, and nothing sent upstream."""

from __future__ import annotations

import socket
import time
from typing import Any

import aiohttp
import pytest

from strongroom_sidecar import app as sidecar_app
from strongroom_sidecar import problems
from tests import canary
from tests.sidecar import builders
from tests.sidecar.conftest import SidecarFactory, Upstream, World, caught_up, proxy_url

TOKEN = canary.new("refusal-token")


async def refused(
    http: aiohttp.ClientSession, car: sidecar_app.Sidecar, code: str, **headers: str
) -> dict[str, Any]:
    async with http.get(
        proxy_url(car), headers={k.replace("_", "-"): v for k, v in headers.items()}
    ) as response:
        body = await response.json(content_type=None)
        assert response.headers.get("Strongroom-Error") == code, body
        assert response.status == problems.CODES[code].status
        assert response.content_type == "application/problem+json"
        assert "Strongroom-Audit-Id" in response.headers
    assert set(body) == {"type", "title", "status", "detail", "code"}
    assert body["code"] == code
    assert body["type"].endswith(f"/{code}")
    assert TOKEN not in str(body)
    return body


@pytest.fixture
async def ready(
    world: World, upstream: Upstream, make_sidecar: SidecarFactory
) -> sidecar_app.Sidecar:
    await world.add_provider(
        "other", builders.provider_policy([f"127.0.0.1:{upstream.port}", "api.example.com"])
    )
    await world.add_grant("echo-demo", {"token": TOKEN})
    await world.add_grant("other-a", {"token": TOKEN}, provider="other")
    await world.add_grant("other-b", {"token": TOKEN}, provider="other")
    await world.add_grant("alice", {"token": TOKEN}, kind="user", principal_id="alice")
    await world.add_grant("team", {"token": TOKEN}, kind="group", principal_id="team")
    await world.add_grant("bot", {"token": TOKEN}, kind="agent", principal_id="bot")
    await world.add_grant("unlisted", {"token": TOKEN}, listed=False)
    await world.add_grant("revoked", {"token": TOKEN}, state="Revoked")
    await world.add_grant("expired", {"token": TOKEN}, state="Expired")
    await world.add_grant("past", {"token": TOKEN}, grant_expires_at=time.time() - 5)
    await world.add_grant("reauth", {"token": TOKEN}, state="NeedsReauth")
    await world.add_grant("empty", None)
    await world.add_grant("nofield", {"other": TOKEN})
    await world.add_grant("tampered", {"token": TOKEN})
    tampered = await world.storage.get_grant(builders.NAMESPACE, "tampered")
    assert tampered is not None
    blob = tampered.sealed
    flipped = blob[:-3] + ("A" if blob[-3] != "A" else "B") + blob[-2:]
    await world.set_state("tampered", sealed=flipped)
    return await make_sidecar()


def target(upstream: Upstream, path: str = "/echo") -> str:
    return upstream.url(path)


@pytest.mark.parametrize(
    ("code", "headers"),
    [
        ("missing_target", {"Strongroom-Grant": "echo-demo"}),
        ("invalid_target", {"Strongroom-Target": "not a url", "Strongroom-Grant": "echo-demo"}),
        ("invalid_target", {"Strongroom-Target": "ftp://x/", "Strongroom-Grant": "echo-demo"}),
        ("invalid_header", {"Strongroom-Grant": "UPPER case"}),
        ("invalid_header", {"Strongroom-Context": "[1]", "Strongroom-Grant": "echo-demo"}),
        ("grant_unspecified", {}),
        ("grant_not_found", {"Strongroom-Grant": "nope"}),
        ("provider_not_found", {"Strongroom-Provider": "nope"}),
        ("ambiguous_grant", {"Strongroom-Provider": "other"}),
        ("principal_token_required", {"Strongroom-Grant": "alice"}),
        ("principal_token_required", {"Strongroom-Grant": "team"}),
        (
            "identity_not_configured",
            {"Strongroom-Grant": "alice", "Strongroom-User-Token": "eyJhbGciOi.x.y"},
        ),
        (
            "identity_not_configured",
            {"Strongroom-Provider": "echo", "Strongroom-User-Token": "eyJhbGciOi.x.y"},
        ),
        ("invalid_agent_key", {"Strongroom-Grant": "bot"}),
        ("invalid_agent_key", {"Strongroom-Grant": "echo-demo", "Strongroom-Agent-Key": "k"}),
        ("invalid_header", {"Strongroom-Grant": "echo-demo", "Strongroom-Narrow": "[1]"}),
        ("policy_denied", {"Strongroom-Grant": "unlisted"}),
        ("grant_revoked", {"Strongroom-Grant": "revoked"}),
        ("grant_expired", {"Strongroom-Grant": "expired"}),
        ("grant_expired", {"Strongroom-Grant": "past"}),
        ("reauthorization_required", {"Strongroom-Grant": "reauth"}),
        ("credential_unavailable", {"Strongroom-Grant": "empty"}),
        ("credential_unavailable", {"Strongroom-Grant": "nofield"}),
        ("credential_unavailable", {"Strongroom-Grant": "tampered"}),
    ],
)
async def test_refusal_answers_its_code_and_sends_nothing_upstream(
    ready: sidecar_app.Sidecar,
    upstream: Upstream,
    http: aiohttp.ClientSession,
    code: str,
    headers: dict[str, str],
) -> None:
    headers = dict(headers)
    if code != "missing_target":
        headers.setdefault("Strongroom-Target", target(upstream))
    await refused(http, ready, code, **headers)
    assert upstream.seen == []


@pytest.mark.parametrize(
    ("code", "url"),
    [
        ("host_not_allowed", "https://evil.example.com/"),
        ("host_not_allowed", "https://api.example.com.evil.example.com/"),
        ("insecure_scheme", "http://api.example.com/"),
        ("userinfo_in_url", "https://user:pw@api.example.com/"),
        ("ip_literal_not_allowed", "https://10.0.0.1/"),
        ("ip_literal_not_allowed", "https://[::ffff:10.0.0.1]/"),
        ("ip_literal_not_allowed", "https://2130706433/"),
    ],
)
async def test_credential_never_goes_to_a_target_outside_the_allow_list(
    ready: sidecar_app.Sidecar,
    upstream: Upstream,
    http: aiohttp.ClientSession,
    code: str,
    url: str,
) -> None:
    body = await refused(http, ready, code, Strongroom_Target=url, Strongroom_Grant="other-a")
    assert "Strongroom-Target" in body["detail"]
    assert upstream.seen == []


@pytest.mark.parametrize(
    ("scheme", "code"), [("http", "insecure_scheme"), ("https", "ip_literal_not_allowed")]
)
async def test_loopback_targets_are_refused_unless_enabled(
    world: World,
    upstream: Upstream,
    make_sidecar: SidecarFactory,
    http: aiohttp.ClientSession,
    scheme: str,
    code: str,
) -> None:
    await world.add_grant("echo-demo", {"token": TOKEN})
    car = await make_sidecar(allow_loopback_targets=False)
    await refused(
        http,
        car,
        code,
        Strongroom_Target=f"{scheme}://127.0.0.1:{upstream.port}/echo",
        Strongroom_Grant="echo-demo",
    )
    assert upstream.seen == []


async def test_unreachable_upstream_is_upstream_error(
    world: World, make_sidecar: SidecarFactory, http: aiohttp.ClientSession
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    await world.add_provider("dead", builders.provider_policy([f"127.0.0.1:{closed_port}"]))
    await world.add_grant("dead-grant", {"token": TOKEN}, provider="dead")
    car = await make_sidecar()
    await refused(
        http,
        car,
        "upstream_error",
        Strongroom_Target=f"http://127.0.0.1:{closed_port}/",
        Strongroom_Grant="dead-grant",
    )


async def test_silent_upstream_is_upstream_timeout(
    world: World, upstream: Upstream, make_sidecar: SidecarFactory, http: aiohttp.ClientSession
) -> None:
    await world.add_grant("echo-demo", {"token": TOKEN})
    car = await make_sidecar(upstream_timeout=0.2)
    await refused(
        http,
        car,
        "upstream_timeout",
        Strongroom_Target=upstream.url("/wait"),
        Strongroom_Grant="echo-demo",
    )


async def test_sidecar_without_its_keys_and_snapshot_is_not_ready(
    world: World, make_sidecar: SidecarFactory, http: aiohttp.ClientSession, upstream: Upstream
) -> None:
    car = await make_sidecar(wait_ready=False, control_plane_token="wrong-token")
    body = await refused(
        http, car, "not_ready", Strongroom_Target=upstream.url("/echo"), Strongroom_Grant="x"
    )
    assert "control plane" in body["detail"]


async def test_grant_created_after_start_is_served_once_the_watch_delivers_it(
    world: World, upstream: Upstream, sidecar: sidecar_app.Sidecar, http: aiohttp.ClientSession
) -> None:
    await refused(
        http,
        sidecar,
        "grant_not_found",
        Strongroom_Target=upstream.url("/echo"),
        Strongroom_Grant="late",
    )
    await world.add_grant("late", {"token": TOKEN})
    await caught_up(sidecar, world.storage)
    async with http.get(
        proxy_url(sidecar),
        headers={"Strongroom-Target": upstream.url("/echo"), "Strongroom-Grant": "late"},
    ) as response:
        assert response.status == 200
