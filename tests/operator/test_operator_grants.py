"""Grants: sealed into a record in the control plane's namespace, from a client-side sealed
value or a plain Secret (Warning, optional deletion); status with conditions; the App's policy
follows Grants as they come and go."""

from __future__ import annotations

import asyncio

from tests import canary
from tests.kube import emulator
from tests.operator import conftest as c


async def test_a_grant_from_a_sealed_value_is_ready_with_its_record_in_the_control_plane_namespace(
    kube: emulator.KubeEmulator,
) -> None:
    token = canary.new()
    value = await c.sealed_value(kube, "deploy", "echo", {"token": token})
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(c.grant("deploy", credential={"sealedValue": value}))
        await c.until(lambda: c.status(kube, "grants", "deploy").get("state") == "Ready")
        policy = await c.until(lambda: c.document(kube, "shop", "policy"))
    status = c.status(kube, "grants", "deploy")
    (condition,) = status["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == (
        "Ready",
        "True",
        "Reconciled",
    )
    assert condition["observedGeneration"] == status["observedGeneration"] == 1
    assert "deploy" in policy.body["grants"]
    assert c.record(kube, "deploy").state == "Ready"
    assert await c.open_record(kube, "deploy") == {"token": token}
    stored = kube.get("grants.strongroom.dev", "deploy", "team-a")
    assert stored is not None
    assert stored["metadata"]["finalizers"] == ["strongroom.dev/finalizer"]


async def test_a_grant_from_a_plain_secret_is_sealed_with_a_warning_and_the_secret_kept(
    kube: emulator.KubeEmulator,
) -> None:
    token = canary.new()
    kube.create(c.plain_secret("deploy-token", {"token": token}))
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(c.grant("deploy", credential={"secretRef": {"name": "deploy-token"}}))
        await c.until(lambda: c.status(kube, "grants", "deploy").get("state") == "Ready")
        warning = await c.until(
            lambda: [e for e in c.events(kube, "deploy") if e["reason"] == "PlaintextSecret"]
        )
    assert warning[0]["type"] == "Warning"
    assert "strongroom seal" in warning[0]["message"]
    assert await c.open_record(kube, "deploy") == {"token": token}
    assert kube.get("secrets", "deploy-token", "team-a") is not None


async def test_the_plaintext_secret_is_deleted_once_sealed_when_the_grant_asks(
    kube: emulator.KubeEmulator,
) -> None:
    token = canary.new()
    kube.create(c.plain_secret("deploy-token", {"api": token}))
    annotations = {"strongroom.dev/delete-plaintext-secret": "true"}
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(
            c.grant(
                "deploy",
                credential={"secretRef": {"name": "deploy-token", "key": "api"}},
                annotations=annotations,
            )
        )
        await c.until(lambda: kube.get("secrets", "deploy-token", "team-a") is None)
        await c.until(
            lambda: any(e["reason"] == "PlaintextSecretDeleted" for e in c.events(kube, "deploy"))
        )
        # Edited later (a label), the Grant stays Ready from its record: the Secret is gone.
        kube.patch(
            "grants.strongroom.dev", "deploy", {"metadata": {"labels": {"a": "b"}}}, "team-a"
        )
        await c.until(lambda: c.status(kube, "grants", "deploy").get("state") == "Ready")
    assert await c.open_record(kube, "deploy") == {"token": token}


async def test_a_forbidden_plaintext_deletion_is_one_warning_saying_what_to_do_not_retries(
    kube: emulator.KubeEmulator,
) -> None:
    """The chart's operator.deletePlaintextSecrets=false withholds delete on Secrets."""
    token = canary.new()
    kube.create(c.plain_secret("deploy-token", {"token": token}))
    kube.forbid("DELETE", "secrets")
    annotations = {"strongroom.dev/delete-plaintext-secret": "true"}
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(
            c.grant(
                "deploy",
                credential={"secretRef": {"name": "deploy-token"}},
                annotations=annotations,
            )
        )
        await c.until(lambda: c.status(kube, "grants", "deploy").get("state") == "Ready")
        warning = await c.until(
            lambda: [
                e for e in c.events(kube, "deploy") if e["reason"] == "PlaintextSecretNotDeleted"
            ]
        )
        await asyncio.sleep(1.0)  # several retry delays of the test settings (0.2 s)
        deletes = [p for m, p in kube.requests if m == "DELETE" and "deploy-token" in p]
    assert warning[0]["type"] == "Warning"
    assert "operator.deletePlaintextSecrets=true" in warning[0]["message"]
    assert len(deletes) == 1
    assert kube.get("secrets", "deploy-token", "team-a") is not None
    assert await c.open_record(kube, "deploy") == {"token": token}


async def test_a_grant_whose_secret_is_missing_is_pending_naming_it(
    kube: emulator.KubeEmulator,
) -> None:
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(c.grant("deploy", credential={"secretRef": {"name": "nowhere"}}))
        status = await c.until(
            lambda: (s := c.status(kube, "grants", "deploy")).get("state") == "Pending" and s
        )
    assert 'Secret "nowhere" not found' in status["message"]
    assert c.record(kube, "deploy") is None


async def test_a_grant_without_credential_is_pending(kube: emulator.KubeEmulator) -> None:
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(c.grant("deploy"))
        status = await c.until(
            lambda: (s := c.status(kube, "grants", "deploy")).get("state") == "Pending" and s
        )
    assert "spec.credential" in status["message"]


async def test_policy_is_recompiled_when_grants_are_added_and_removed(
    kube: emulator.KubeEmulator,
) -> None:
    values = {
        name: await c.sealed_value(kube, name, "echo", {"token": canary.new()})
        for name in ("one", "two")
    }

    def grants_in_policy() -> set[str]:
        found = c.document(kube, "shop", "policy")
        return set(found.body["grants"]) if found else set()

    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(c.grant("one", credential={"sealedValue": values["one"]}))
        await c.until(lambda: grants_in_policy() == {"one"})
        kube.create(c.grant("two", credential={"sealedValue": values["two"]}))
        await c.until(lambda: grants_in_policy() == {"one", "two"})
        kube.delete("grants.strongroom.dev", "one", "team-a")
        await c.until(lambda: grants_in_policy() == {"two"})
        await c.until(lambda: kube.get("grants.strongroom.dev", "one", "team-a") is None)
    assert c.record(kube, "one") is None
    assert c.record(kube, "two") is not None


async def test_a_grant_applied_before_its_app_and_provider_waits_then_becomes_ready(
    kube: emulator.KubeEmulator,
) -> None:
    value = await c.sealed_value(kube, "deploy", "echo", {"token": canary.new()})
    async with c.operator(kube):
        kube.create(c.grant("deploy", credential={"sealedValue": value}))
        status = await c.until(
            lambda: (s := c.status(kube, "grants", "deploy")).get("state") == "Pending" and s
        )
        assert 'App "shop" not found' in status["message"]
        kube.create(c.app())
        kube.create(c.secret_provider())
        await c.until(lambda: c.status(kube, "grants", "deploy").get("state") == "Ready")


async def test_the_ready_condition_keeps_its_transition_time_while_its_status_holds(
    kube: emulator.KubeEmulator,
) -> None:
    value = await c.sealed_value(kube, "deploy", "echo", {"token": canary.new()})
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(c.grant("deploy", credential={"sealedValue": value}))
        first = await c.until(lambda: c.ready(kube, "grants", "deploy"))
        patched = kube.patch(
            "grants.strongroom.dev",
            "deploy",
            {"spec": {"restrictions": {"methods": ["GET"]}}},
            "team-a",
        )
        generation = patched["metadata"]["generation"]
        assert generation > first["observedGeneration"]
        later = await c.until(
            lambda: (
                (r := c.ready(kube, "grants", "deploy"))["observedGeneration"] == generation and r
            )
        )
    assert later["lastTransitionTime"] == first["lastTransitionTime"]


async def test_a_grant_waiting_for_its_secret_becomes_ready_when_it_is_created(
    kube: emulator.KubeEmulator,
) -> None:
    token = canary.new()
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(c.grant("deploy", credential={"secretRef": {"name": "later"}}))
        await c.until(lambda: c.status(kube, "grants", "deploy").get("state") == "Pending")
        kube.create(c.plain_secret("later", {"token": token}))
        await c.until(lambda: c.status(kube, "grants", "deploy").get("state") == "Ready")
    assert await c.open_record(kube, "deploy") == {"token": token}
