"""Agents: the API key lands in a Secret of the Agent's namespace owned by the Agent, only its
hash in the policy; rotation on request keeps the old key for the overlap; suspend and resume."""

from __future__ import annotations

import base64
from typing import Any

from strongroom_core.agents import keys
from tests import canary
from tests.kube import emulator
from tests.operator import conftest as c


def key_secret(kube: emulator.KubeEmulator, name: str = "bot") -> Any:
    return kube.get("secrets", f"{name}-strongroom-key", "team-a")


def plaintext(secret: dict[str, Any]) -> str:
    key = base64.b64decode(secret["data"]["apiKey"]).decode()
    canary.register(key)
    return key


def agent_policy(kube: emulator.KubeEmulator, name: str = "bot") -> Any:
    policy = c.document(kube, "shop", "policy")
    return (policy.body.get("agents") or {}).get(name) if policy else None


async def test_an_agent_gets_its_key_in_a_secret_and_only_the_hash_in_the_policy(
    kube: emulator.KubeEmulator,
) -> None:
    async with c.operator(kube):
        kube.create(c.app())
        created = kube.create(c.agent("bot"))
        secret = await c.until(lambda: key_secret(kube))
        await c.until(lambda: c.ready(kube, "agents", "bot"))
        entry = await c.until(lambda: agent_policy(kube))
    key = plaintext(secret)
    (owner,) = secret["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"]) == ("Agent", created["metadata"]["uid"])
    (stored,) = entry["keys"]
    assert keys.matches(key, stored["sha256"])
    assert key not in str(c.document(kube, "shop", "policy").body)
    assert entry["suspended"] is False


async def test_a_rotation_request_issues_a_new_key_and_keeps_the_old_for_the_overlap(
    kube: emulator.KubeEmulator,
) -> None:
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.agent("bot", keyRotation={"overlapSeconds": 600}))
        first = plaintext(await c.until(lambda: key_secret(kube)))
        kube.patch(
            "agents.strongroom.dev",
            "bot",
            {"metadata": {"annotations": {"strongroom.dev/rotate-key": "2026-11-28"}}},
            "team-a",
        )
        rotated = await c.until(
            lambda: (
                (s := key_secret(kube))
                and s["metadata"]["annotations"].get("strongroom.dev/rotated-for") == "2026-11-28"
                and s
            )
        )
        entry = await c.until(
            lambda: len((agent_policy(kube) or {}).get("keys", [])) == 2 and agent_policy(kube)
        )
        await c.until(lambda: any(e["reason"] == "KeyIssued" for e in c.events(kube, "bot")))
    second = plaintext(rotated)
    assert second != first
    old, new = entry["keys"]
    assert keys.matches(first, old["sha256"])
    assert "notAfter" in old
    assert keys.matches(second, new["sha256"])
    assert "notAfter" not in new


async def test_suspend_and_resume_go_into_the_policy(kube: emulator.KubeEmulator) -> None:
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.agent("bot"))
        await c.until(lambda: agent_policy(kube))
        kube.patch("agents.strongroom.dev", "bot", {"spec": {"suspended": True}}, "team-a")
        await c.until(lambda: agent_policy(kube)["suspended"] is True)
        condition = await c.until(
            lambda: (r := c.ready(kube, "agents", "bot")) and r["reason"] == "Suspended" and r
        )
        kube.patch("agents.strongroom.dev", "bot", {"spec": {"suspended": False}}, "team-a")
        await c.until(lambda: agent_policy(kube)["suspended"] is False)
    assert "spec.suspended" in condition["message"]


async def test_a_deleted_key_secret_is_replaced_by_a_new_key(kube: emulator.KubeEmulator) -> None:
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.agent("bot"))
        first = plaintext(await c.until(lambda: key_secret(kube)))
        kube.delete("secrets", "bot-strongroom-key", "team-a")
        kube.patch("agents.strongroom.dev", "bot", {"metadata": {"labels": {"x": "y"}}}, "team-a")
        second = plaintext(await c.until(lambda: key_secret(kube)))
        entry = await c.until(
            lambda: (
                (a := agent_policy(kube)) and keys.matches(second, a["keys"][-1]["sha256"]) and a
            )
        )
    assert second != first
    assert not any(keys.matches(first, k["sha256"]) and "notAfter" not in k for k in entry["keys"])
