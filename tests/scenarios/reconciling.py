"""The operator's scenarios: every kind reconciles, bad resources end with a status naming the
field, and a Grant's deletion goes through its finalizer. Each takes a :class:`api.ClusterApi`
whose namespace is empty of Strongroom resources, and an operator already running."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strongroom_operator.kubestore import secrets as kubesecrets
from tests import canary
from tests.scenarios import api as cluster_api
from tests.scenarios import manifests as m


async def grant_state(api: cluster_api.ClusterApi, name: str, state: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        status = await api.status("grants", name)
        return status if status.get("state") == state else None

    found: dict[str, Any] = await api.until(reached, f"Grant {name} in state {state}")
    return found


async def ready(api: cluster_api.ClusterApi, plural: str, name: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        condition = await api.ready(plural, name)
        return condition if condition and condition.get("status") == "True" else None

    found: dict[str, Any] = await api.until(reached, f"{plural}/{name} Ready")
    return found


async def grant_record(api: cluster_api.ClusterApi, name: str) -> dict[str, Any] | None:
    secret_name = kubesecrets.grant_secret_name(api.namespace, name)
    return await api.get("secrets", secret_name, api.control_plane_namespace)


async def apply_app_with_a_ready_grant(api: cluster_api.ClusterApi, grant: str = "deploy") -> str:
    """App ``shop``, Provider ``echo`` and a Grant sealed from a plain Secret; the token."""
    ns = api.namespace
    token = canary.new("scenario-token")
    await api.create(m.plain_secret(ns, f"{grant}-token", token))
    await api.create(m.app(ns))
    await api.create(m.secret_provider(ns))
    await api.create(m.grant_from_secret(ns, grant, f"{grant}-token"))
    await grant_state(api, grant, "Ready")
    return token


async def every_kind_reconciles(api: cluster_api.ClusterApi) -> None:
    await apply_app_with_a_ready_grant(api)
    await api.create(m.agent(api.namespace, "bot", "deploy"))
    for plural, name in (("apps", "shop"), ("providers", "echo"), ("agents", "bot")):
        await ready(api, plural, name)
    status = await api.status("grants", "deploy")
    assert status["conditions"][0]["type"] == "Ready"
    assert status["observedGeneration"] == 1
    assert await grant_record(api, "deploy") is not None
    key = await api.until(
        lambda: api.get("secrets", "bot-strongroom-key"), "the Agent's key Secret"
    )
    assert key["metadata"]["ownerReferences"][0]["kind"] == "Agent"


async def bad_resources_name_the_field(api: cluster_api.ClusterApi) -> None:
    """Both pass the CRDs' schemas and CEL rules: only the operator can tell."""
    ns = api.namespace
    await api.create(m.app(ns))
    await api.create(m.app(ns, "blog"))
    await api.create(m.secret_provider(ns, "blog-echo", app_ref="blog"))
    await api.create(m.preset_provider(ns, "mystery", "no-such-preset"))
    await api.create(m.plain_secret(ns, "stolen-token", canary.new("scenario-token")))
    await api.create(m.grant_from_secret(ns, "stolen", "stolen-token", provider="blog-echo"))

    async def preset_refused() -> dict[str, Any] | None:
        condition = await api.ready("providers", "mystery")
        return condition if condition and condition.get("reason") == "SpecInvalid" else None

    condition = await api.until(preset_refused, "Provider mystery refused as SpecInvalid")
    assert condition["status"] == "False"
    assert "spec.preset" in condition["message"]

    # Another App's Provider is, for this Grant, a Provider that is not there (yet): Pending,
    # retried, naming the field.
    async def provider_named() -> dict[str, Any] | None:
        status = await api.status("grants", "stolen")
        return status if "spec.providerRef" in str(status.get("message")) else None

    status = await api.until(provider_named, "Grant stolen naming spec.providerRef")
    assert status["state"] in ("Invalid", "Pending")
    assert status["conditions"][0]["status"] == "False"
    assert await grant_record(api, "stolen") is None


async def deleting_a_grant_runs_its_finalizer(api: cluster_api.ClusterApi) -> None:
    await apply_app_with_a_ready_grant(api, "doomed")
    grant = await api.get("grants", "doomed")
    assert grant is not None
    assert "strongroom.dev/finalizer" in grant["metadata"]["finalizers"]
    assert await grant_record(api, "doomed") is not None
    await api.delete("grants", "doomed")

    async def gone() -> bool:
        return (
            await api.get("grants", "doomed") is None and await grant_record(api, "doomed") is None
        )

    await api.until(gone, "Grant doomed and its sealed record deleted")


SCENARIOS: list[Callable[[cluster_api.ClusterApi], Awaitable[None]]] = [
    every_kind_reconciles,
    bad_resources_name_the_field,
    deleting_a_grant_runs_its_finalizer,
]
"""Every operator scenario, for the suites that run them all."""
