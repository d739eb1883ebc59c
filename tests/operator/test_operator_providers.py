"""Providers: Ready when complete; a missing client-secret Secret is named in the status with
what to do, and the Provider becomes Ready once the Secret exists."""

from __future__ import annotations

from tests import canary
from tests.kube import emulator
from tests.operator import conftest as c


async def test_a_secret_provider_is_ready(kube: emulator.KubeEmulator) -> None:
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        condition = await c.until(lambda: c.ready(kube, "providers", "echo"))
        policy = await c.until(lambda: c.document(kube, "shop", "policy"))
    assert (condition["status"], condition["reason"]) == ("True", "Reconciled")
    assert policy.body["providers"]["echo"]["allowedHosts"] == ["api.example.com"]


async def test_a_missing_client_secret_is_named_then_resolved_when_created(
    kube: emulator.KubeEmulator,
) -> None:
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.oauth_provider())
        condition = await c.until(lambda: c.ready(kube, "providers", "gh"))
        assert (condition["status"], condition["reason"]) == ("False", "ClientSecretMissing")
        assert 'Secret "gh-client" not found in namespace "team-a"' in condition["message"]
        assert 'key "clientSecret"' in condition["message"]
        warning = await c.until(
            lambda: [e for e in c.events(kube, "gh") if e["reason"] == "ClientSecretMissing"]
        )
        assert warning[0]["type"] == "Warning"
        kube.create(c.plain_secret("gh-client", {"clientSecret": canary.new()}))
        await c.until(lambda: c.ready(kube, "providers", "gh")["status"] == "True")
        policy = await c.until(
            lambda: (
                (d := c.document(kube, "shop", "policy"))
                and "clientSecretSealed" in d.body["providers"]["gh"]["oauth2"]
                and d
            )
        )
    assert policy.body["providers"]["gh"]["oauth2"]["clientId"] == "client-1"


async def test_a_client_secret_under_another_key_is_named_with_the_field_to_change(
    kube: emulator.KubeEmulator,
) -> None:
    kube.create(c.plain_secret("gh-client", {"secret": canary.new()}))
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.oauth_provider())
        condition = await c.until(lambda: c.ready(kube, "providers", "gh"))
    assert condition["message"].startswith("spec.oauth2.clientSecretRef.key:")
