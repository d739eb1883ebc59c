"""Reconcile for Agents and the compiled policy: keys documents (first key issued once, a
recreated Agent gets a fresh one), identity, restrictions and agents in the policy, rotation
patching the stored policy, and the control plane's rotate endpoint guarding its input."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from strongroom_core.agents import keys
from strongroom_core.resources import loading, models
from strongroom_core.sealing import keys as keys_module
from strongroom_core.sealing import publickey, rootkeys
from strongroom_core.storage import sqlite
from strongroom_operator.controlplane import auth, keyservice, server
from strongroom_operator.reconcile import agents, batch, context, policies
from tests import canary

YAML = """
apiVersion: strongroom.dev/v1alpha1
kind: App
metadata: {name: demo, namespace: shop}
spec:
  serviceAccounts: [web]
  identity:
    issuer: https://id.example.com
    jwksURL: https://id.example.com/certs
    audiences: [shop-api]
  policy:
    rules:
      - {methods: [GET]}
---
apiVersion: strongroom.dev/v1alpha1
kind: Provider
metadata: {name: api, namespace: shop}
spec: {appRef: demo, type: secret, allowedHosts: [api.example.com]}
---
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {name: reader, namespace: shop}
spec:
  appRef: demo
  providerRef: api
  principal: {kind: system, id: jobs}
  restrictions: {paths: ["/v1/**"]}
---
apiVersion: strongroom.dev/v1alpha1
kind: Agent
metadata: {name: bot, namespace: shop, uid: uid-1}
spec:
  appRef: demo
  access: [{grant: reader}, {provider: api}]
"""
ADMIN = canary.new("admin-token")
SIDECAR = canary.new("sidecar-token")


class _Root:
    def __init__(self) -> None:
        self.keyring = rootkeys.new_root_keyring()

    async def load(self) -> keys_module.Keyring:
        return self.keyring


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[sqlite.SqliteStorage]:
    store = sqlite.SqliteStorage(tmp_path / "db.sqlite")
    await store.open()
    yield store
    await store.close()


def resources() -> list[models.Resource]:
    loaded = loading.load_documents(YAML, "test.yaml")
    assert all(not isinstance(r, loading.LoadFailure) for r in loaded), loaded
    return [r for r in loaded if not isinstance(r, loading.LoadFailure)]


def make_ctx(
    storage: sqlite.SqliteStorage, issued: list[agents.IssuedKey] | None
) -> context.ReconcileContext:
    async def sink(key: agents.IssuedKey) -> None:
        assert issued is not None
        canary.register(key.plaintext)
        issued.append(key)

    return context.ReconcileContext(
        storage=storage,
        key_service=keyservice.KeyService(storage, _Root()),
        sealing_key=publickey.SealingKey.generate(),
        agent_keys=sink if issued is not None else None,
    )


async def test_the_compiled_policy_carries_identity_rules_restrictions_and_agents(
    storage: sqlite.SqliteStorage,
) -> None:
    issued: list[agents.IssuedKey] = []
    report = await batch.reconcile_all(make_ctx(storage, issued), resources())
    assert report[("Agent", "shop", "bot")].ok
    stored = await storage.get_document("shop", "demo", "policy")
    assert stored is not None
    body = stored.body
    assert body["identity"] == {
        "issuer": "https://id.example.com",
        "jwksURL": "https://id.example.com/certs",
        "audiences": ["shop-api"],
        "algorithms": ["RS256"],
        "claims": {"userId": "sub", "groups": "groups"},
    }
    assert body["rules"] == [{"methods": ["GET"]}]
    assert body["grants"]["reader"]["restrictions"] == {"paths": ["/v1/**"]}
    [key] = issued
    assert body["agents"]["bot"] == {
        "suspended": False,
        "access": [{"grant": "reader"}, {"provider": "api"}],
        "keys": [{"kid": key.kid, "sha256": keys.digest(key.plaintext)}],
    }
    assert key.plaintext not in str(body)
    assert body["digest"] == policies.policy_digest(body)


async def test_a_first_key_is_issued_once_and_a_recreated_agent_gets_a_new_one(
    storage: sqlite.SqliteStorage,
) -> None:
    issued: list[agents.IssuedKey] = []
    ctx = make_ctx(storage, issued)
    await batch.reconcile_all(ctx, resources())
    await batch.reconcile_all(ctx, resources())
    assert len(issued) == 1
    recreated = [
        dataclasses.replace(r, meta=dataclasses.replace(r.meta, uid="uid-2"))
        if isinstance(r, models.Agent)
        else r
        for r in resources()
    ]
    await batch.reconcile_all(ctx, recreated)
    assert len(issued) == 2
    assert issued[0].kid != issued[1].kid
    stored = await storage.get_document("shop", "demo", "policy")
    assert stored is not None
    assert [k["kid"] for k in stored.body["agents"]["bot"]["keys"]] == [issued[1].kid]


async def test_without_a_way_to_hand_the_key_over_the_agent_says_to_rotate(
    storage: sqlite.SqliteStorage,
) -> None:
    report = await batch.reconcile_all(make_ctx(storage, None), resources())
    outcome = report[("Agent", "shop", "bot")]
    assert (outcome.state, outcome.reason) == ("Pending", "KeyUndelivered")
    assert "strongroom agent rotate" in outcome.message


async def test_rotation_patches_the_stored_policy_and_prunes_on_a_later_reconcile(
    storage: sqlite.SqliteStorage,
) -> None:
    issued: list[agents.IssuedKey] = []
    ctx = make_ctx(storage, issued)
    await batch.reconcile_all(ctx, resources())
    new = await agents.rotate_key(storage, "shop", "demo", "bot", now=1000.0, overlap=10)
    canary.register(new.plaintext)
    stored = await storage.get_document("shop", "demo", "policy")
    assert stored is not None
    wire = stored.body["agents"]["bot"]["keys"]
    assert wire == [
        {"kid": issued[0].kid, "sha256": keys.digest(issued[0].plaintext), "notAfter": 1010.0},
        {"kid": new.kid, "sha256": keys.digest(new.plaintext)},
    ]
    assert stored.body["digest"] == policies.policy_digest(stored.body)
    # A reconcile at "now" (after 1010) prunes the ended key and compiles the same policy.
    await batch.reconcile_all(ctx, resources())
    again = await storage.get_document("shop", "demo", "policy")
    assert again is not None
    assert [k["kid"] for k in again.body["agents"]["bot"]["keys"]] == [new.kid]


async def test_rotating_an_agent_without_keys_is_agent_not_found(
    storage: sqlite.SqliteStorage,
) -> None:
    with pytest.raises(agents.AgentNotFound, match="ghost"):
        await agents.rotate_key(storage, "shop", "demo", "ghost", now=0.0, overlap=0)


@pytest.fixture
async def control_plane_url(storage: sqlite.SqliteStorage) -> AsyncIterator[str]:
    await batch.reconcile_all(make_ctx(storage, []), resources())
    cp = server.ControlPlane(
        storage,
        keyservice.KeyService(storage, _Root()),
        publickey.SealingKey.generate(),
        auth.StaticTokenAuthenticator(
            {
                ADMIN: auth.Caller("admin", "admin"),
                SIDECAR: auth.Caller("sidecar", "pod/x", "shop", "demo"),
            }
        ),
    )
    runner, port = await server.start(cp)
    yield f"http://127.0.0.1:{port}/v1/apps/shop/demo/agents/bot/rotate"
    await runner.cleanup()


@pytest.mark.parametrize(
    ("token", "body", "status"),
    [
        (SIDECAR, {}, 403),
        (ADMIN, {"overlapSeconds": -1}, 400),
        (ADMIN, {"overlapSeconds": "soon"}, 400),
        (ADMIN, {"overlapSeconds": 60}, 200),
    ],
)
async def test_only_admins_rotate_with_a_sane_overlap(
    control_plane_url: str, token: str, body: dict[str, object], status: int
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            control_plane_url, json=body, headers={"Authorization": f"Bearer {token}"}
        ) as response,
    ):
        answer = await response.json()
        assert response.status == status, answer
    if status == 200:
        canary.register(answer["key"])
        assert keys.kid_of(answer["key"]) == answer["kid"]
        assert answer["previousKeysNotAfter"] is not None
    else:
        assert "key" not in answer
