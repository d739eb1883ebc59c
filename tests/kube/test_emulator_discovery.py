"""Discovery is enough for kopf and for clients to find every resource the project uses."""

from __future__ import annotations

from tests.kube import apiclient


async def test_core_v1_lists_the_kinds_strongroom_and_kopf_use(raw: apiclient.Raw) -> None:
    status, body = await raw.call("GET", "/api/v1")
    assert status == 200
    names = {r["name"] for r in body["resources"]}
    assert {"secrets", "pods", "pods/status", "events", "namespaces", "serviceaccounts"} <= names


async def test_groups_include_strongroom_leases_crds_and_token_reviews(
    raw: apiclient.Raw,
) -> None:
    _, body = await raw.call("GET", "/apis")
    groups = {g["name"] for g in body["groups"]}
    assert {
        "strongroom.dev",
        "coordination.k8s.io",
        "apiextensions.k8s.io",
        "authentication.k8s.io",
    } <= groups
    _, api = await raw.call("GET", "/api")
    assert api["versions"] == ["v1"]


async def test_strongroom_resources_come_from_the_project_crds(raw: apiclient.Raw) -> None:
    _, body = await raw.call("GET", "/apis/strongroom.dev/v1alpha1")
    by_name = {r["name"]: r for r in body["resources"]}
    assert {"apps", "providers", "grants", "agents", "grants/status"} <= set(by_name)
    assert by_name["grants"]["kind"] == "Grant"
    assert by_name["grants"]["namespaced"] is True
    assert "strongroom" in by_name["grants"]["categories"]


async def test_deleting_a_crd_removes_its_resources(raw: apiclient.Raw) -> None:
    status, _ = await raw.call(
        "DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/agents.strongroom.dev"
    )
    assert status == 200
    _, body = await raw.call("GET", "/apis/strongroom.dev/v1alpha1")
    assert "agents" not in {r["name"] for r in body["resources"]}
    status, _ = await raw.call("GET", "/apis/strongroom.dev/v1alpha1/agents")
    assert status == 404


async def test_an_unknown_group_version_is_404(raw: apiclient.Raw) -> None:
    status, _ = await raw.call("GET", "/apis/example.com/v1")
    assert status == 404
