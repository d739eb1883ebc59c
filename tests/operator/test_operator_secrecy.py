"""No secret reaches a status, an Event or a record in clear: only the Agent's own key Secret
and the user's plaintext Secret hold plaintext."""

from __future__ import annotations

import base64
import json

from tests import canary
from tests.kube import emulator
from tests.operator import conftest as c


async def test_statuses_events_and_records_never_hold_a_credential(
    kube: emulator.KubeEmulator,
) -> None:
    token, client_secret = canary.new(), canary.new()
    kube.create(c.plain_secret("deploy-token", {"token": token}))
    kube.create(c.plain_secret("gh-client", {"clientSecret": client_secret}))
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(c.oauth_provider())
        kube.create(c.grant("deploy", credential={"secretRef": {"name": "deploy-token"}}))
        kube.create(
            c.grant("broken", credential={"secretRef": {"name": "deploy-token", "key": "x"}})
        )
        kube.create(c.agent("bot"))
        await c.until(lambda: c.status(kube, "grants", "deploy").get("state") == "Ready")
        await c.until(lambda: c.status(kube, "grants", "broken").get("state") == "Pending")
        await c.until(lambda: c.ready(kube, "providers", "gh") and c.ready(kube, "agents", "bot"))
        await c.until(lambda: kube.get("secrets", "bot-strongroom-key", "team-a"))
    key_secret = kube.get("secrets", "bot-strongroom-key", "team-a")
    assert key_secret is not None
    agent_key = base64.b64decode(key_secret["data"]["apiKey"]).decode()
    canary.register(agent_key)
    seen = list(kube.list("events", "team-a"))
    for plural in ("apps", "providers", "grants", "agents"):
        seen.extend(kube.list(f"{plural}.strongroom.dev", "team-a"))
    for stored in kube.list("secrets", c.NAMESPACE):
        seen.append(
            {k: base64.b64decode(v).decode() for k, v in (stored.get("data") or {}).items()}
        )
    text = json.dumps(seen)
    for secret in (token, client_secret, agent_key):
        assert secret not in text
