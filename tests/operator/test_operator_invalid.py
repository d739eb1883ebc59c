"""Resources that cannot be reconciled never crash the operator: their status names the field
and what to do, a Warning Event says it once, and the rest keeps working."""

from __future__ import annotations

from tests import canary
from tests.kube import emulator
from tests.operator import conftest as c


async def test_a_bad_grant_is_invalid_naming_the_field_and_others_still_reconcile(
    kube: emulator.KubeEmulator,
) -> None:
    value = await c.sealed_value(kube, "good", "echo", {"token": canary.new()})
    bad = c.grant("bad", credential={"sealedValue": "x"})
    bad["spec"]["principal"]["kind"] = "robot"
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(bad)
        status = await c.until(
            lambda: (s := c.status(kube, "grants", "bad")).get("state") == "Invalid" and s
        )
        warning = await c.until(
            lambda: [e for e in c.events(kube, "bad") if e["reason"] == "SpecInvalid"]
        )
        kube.create(c.grant("good", credential={"sealedValue": value}))
        await c.until(lambda: c.status(kube, "grants", "good").get("state") == "Ready")
    assert "spec.principal.kind" in status["message"]
    assert "fix the field" in status["message"]
    assert status["conditions"][0]["status"] == "False"
    assert warning[0]["type"] == "Warning"
    assert "bad" not in c.document(kube, "shop", "policy").body["grants"]


async def test_a_sealed_value_for_another_grant_is_invalid_saying_to_seal_again(
    kube: emulator.KubeEmulator,
) -> None:
    value = await c.sealed_value(kube, "other", "echo", {"token": canary.new()})
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.secret_provider())
        kube.create(c.grant("deploy", credential={"sealedValue": value}))
        status = await c.until(
            lambda: (s := c.status(kube, "grants", "deploy")).get("state") == "Invalid" and s
        )
    assert status["message"].startswith("spec.credential.sealedValue: cannot be opened")
    assert c.record(kube, "deploy") is None


async def test_a_provider_with_a_plain_http_token_url_names_the_field(
    kube: emulator.KubeEmulator,
) -> None:
    provider = c.oauth_provider(tokenURL="http://auth.example.com/token")
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(provider)
        condition = await c.until(lambda: c.ready(kube, "providers", "gh"))
    assert condition["reason"] == "SpecInvalid"
    assert "spec.oauth2.tokenURL" in condition["message"]


async def test_an_app_without_service_accounts_names_the_field(
    kube: emulator.KubeEmulator,
) -> None:
    async with c.operator(kube):
        kube.create(c.app(serviceAccounts=[]))
        condition = await c.until(lambda: c.ready(kube, "apps", "shop"))
    assert condition["status"] == "False"
    assert "spec.serviceAccounts" in condition["message"]
    assert c.document(kube, "shop", "keys") is None


async def test_a_grant_of_a_provider_of_another_app_is_invalid(
    kube: emulator.KubeEmulator,
) -> None:
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.app("billing"))
        kube.create(c.secret_provider("echo", app_ref="billing"))
        kube.create(c.secret_provider("mine"))
        kube.create(c.grant("deploy", provider="echo"))
        status = await c.until(
            lambda: (
                (s := c.status(kube, "grants", "deploy")).get("state") in ("Invalid", "Pending")
                and s
            )
        )
    assert "spec.providerRef" in status["message"]


async def test_an_agent_with_access_to_a_missing_grant_waits_naming_it(
    kube: emulator.KubeEmulator,
) -> None:
    async with c.operator(kube):
        kube.create(c.app())
        kube.create(c.agent("bot", access=[{"grant": "nowhere"}]))
        condition = await c.until(lambda: c.ready(kube, "agents", "bot"))
    assert condition["status"] == "False"
    assert "spec.access[0].grant" in condition["message"]
    assert 'Grant "nowhere" not found' in condition["message"]
