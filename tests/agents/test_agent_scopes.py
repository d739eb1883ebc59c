"""An access entry with scopes, on the sidecar harness (scopes belong to OAuth2 grants, which
dev mode's echo provider cannot have): a grant that could do more than the entry allows is
refused, never narrowed, and a provider-only call picks the one grant the entry allows."""

from __future__ import annotations

from typing import Any

import aiohttp

from strongroom_core.agents import keys
from strongroom_sidecar import app as sidecar_app
from tests import canary
from tests.sidecar import builders
from tests.sidecar.conftest import SidecarFactory, Upstream, World, eventually, proxy_url


async def _with_agent(world: World, name: str, access: list[dict[str, Any]]) -> str:
    key = keys.generate()
    canary.register(key.plaintext)
    stored = await world.storage.get_document(builders.NAMESPACE, builders.APP, "policy")
    assert stored is not None
    body = dict(stored.body)
    body["agents"] = {
        name: {
            "suspended": False,
            "access": access,
            "keys": [{"kid": key.kid, "sha256": key.sha256}],
        }
    }
    body["digest"] = f"{body['digest']}+agents"
    await world.storage.put_document(
        builders.NAMESPACE, builders.APP, "policy", body, stored.version
    )
    return key.plaintext


async def _status(
    http: aiohttp.ClientSession, car: sidecar_app.Sidecar, upstream: Upstream, **headers: str
) -> tuple[int, str | None, str]:
    sent = {"Strongroom-Target": upstream.url("/echo"), **headers}
    async with http.get(proxy_url(car), headers=sent) as response:
        body = await response.json(content_type=None)
        detail = body.get("detail", "") if isinstance(body, dict) else ""
        return response.status, response.headers.get("Strongroom-Error"), detail


async def test_an_entry_with_scopes_refuses_a_grant_with_more_scopes(
    world: World,
    make_sidecar: SidecarFactory,
    upstream: Upstream,
    http: aiohttp.ClientSession,
) -> None:
    token = {"token": canary.new("scoped")}
    await world.add_grant("scoped-read", token, scopes=("read",))
    await world.add_grant("scoped-write", token, scopes=("read", "write"))
    key = await _with_agent(world, "reporter", [{"provider": "echo", "scopes": ["read"]}])
    car = await make_sidecar()

    async def agent_known() -> bool:
        return "reporter" in car.state.agents.by_name

    await eventually(agent_known)
    agent = {"Strongroom-Agent-Key": key}
    read = await _status(http, car, upstream, **agent, **{"Strongroom-Grant": "scoped-read"})
    assert read[0] == 200, read
    write = await _status(http, car, upstream, **agent, **{"Strongroom-Grant": "scoped-write"})
    assert write[:2] == (403, "policy_denied")
    assert "only with scopes [read]" in write[2]
    assert "[write]" in write[2]
    alone = await _status(http, car, upstream, **agent, **{"Strongroom-Provider": "echo"})
    assert alone[0] == 200, alone
    assert upstream.seen[-1]["headers"]["Authorization"] == f"Bearer {token['token']}"
