"""Deletion: finalizers and deletionTimestamp, preconditions, deletecollection, owners,
namespaces."""

from __future__ import annotations

from tests.kube import apiclient, emulator, patching

SECRETS = "/api/v1/namespaces/default/secrets"


async def test_delete_with_finalizers_marks_and_removing_the_last_one_deletes(
    raw: apiclient.Raw,
) -> None:
    body = apiclient.secret("a")
    body["metadata"]["finalizers"] = ["strongroom.dev/revoke", "other"]
    await raw.call("POST", SECRETS, body)
    status, marked = await raw.call("DELETE", f"{SECRETS}/a")
    assert status == 200
    assert marked["metadata"]["deletionTimestamp"]
    _, still = await raw.call("GET", f"{SECRETS}/a")
    assert still["metadata"]["finalizers"] == ["strongroom.dev/revoke", "other"]
    one_left = {"metadata": {"finalizers": ["other"]}}
    await raw.call("PATCH", f"{SECRETS}/a", one_left, content_type=patching.MERGE)
    assert (await raw.call("GET", f"{SECRETS}/a"))[0] == 200
    none_left = {"metadata": {"finalizers": None}}
    await raw.call("PATCH", f"{SECRETS}/a", none_left, content_type=patching.MERGE)
    assert (await raw.call("GET", f"{SECRETS}/a"))[0] == 404


async def test_no_finalizer_can_be_added_while_deleting(raw: apiclient.Raw) -> None:
    body = apiclient.secret("a")
    body["metadata"]["finalizers"] = ["one"]
    await raw.call("POST", SECRETS, body)
    await raw.call("DELETE", f"{SECRETS}/a")
    patch = {"metadata": {"finalizers": ["one", "two"]}}
    status, answer = await raw.call("PATCH", f"{SECRETS}/a", patch, content_type=patching.MERGE)
    assert (status, answer["reason"]) == (422, "Invalid")


async def test_delete_with_a_stale_precondition_is_409(raw: apiclient.Raw) -> None:
    _, created = await raw.call("POST", SECRETS, apiclient.secret("a"))
    stale = created["metadata"]["resourceVersion"]
    await raw.call(
        "PATCH", f"{SECRETS}/a", {"metadata": {"labels": {"x": "y"}}}, content_type=patching.MERGE
    )
    options = {"preconditions": {"resourceVersion": stale}}
    status, body = await raw.call("DELETE", f"{SECRETS}/a", options)
    assert (status, body["reason"]) == (409, "Conflict")


async def test_deletecollection_deletes_what_the_selector_matches(raw: apiclient.Raw) -> None:
    await raw.call("POST", SECRETS, apiclient.secret("a", {"app": "shop"}))
    await raw.call("POST", SECRETS, apiclient.secret("b", {"app": "shop"}))
    await raw.call("POST", SECRETS, apiclient.secret("c", {"app": "blog"}))
    status, _ = await raw.call("DELETE", SECRETS, params={"labelSelector": "app=shop"})
    assert status == 200
    _, left = await raw.call("GET", SECRETS)
    assert [i["metadata"]["name"] for i in left["items"]] == ["c"]


async def test_deleting_an_owner_collects_its_dependents(
    raw: apiclient.Raw, kube: emulator.KubeEmulator
) -> None:
    _, owner = await raw.call("POST", SECRETS, apiclient.secret("owner"))
    dependent = apiclient.secret("dependent")
    dependent["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "Secret", "name": "owner", "uid": owner["metadata"]["uid"]}
    ]
    await raw.call("POST", SECRETS, dependent)
    await raw.call("DELETE", f"{SECRETS}/owner")
    assert kube.get("secrets", "dependent", "default") is None


async def test_objects_need_an_existing_namespace(
    raw: apiclient.Raw, kube: emulator.KubeEmulator
) -> None:
    path = "/api/v1/namespaces/team-a/secrets"
    status, body = await raw.call("POST", path, apiclient.secret("a"))
    assert (status, body["message"]) == (404, 'namespaces "team-a" not found')
    kube.create_namespace("team-a")
    assert (await raw.call("POST", path, apiclient.secret("a")))[0] == 201


async def test_deleting_a_namespace_deletes_its_objects(
    raw: apiclient.Raw, kube: emulator.KubeEmulator
) -> None:
    kube.create_namespace("team-a")
    await raw.call("POST", "/api/v1/namespaces/team-a/secrets", apiclient.secret("a"))
    status, _ = await raw.call("DELETE", "/api/v1/namespaces/team-a")
    assert status == 200
    assert kube.get("secrets", "a", "team-a") is None
    assert kube.get("namespaces", "team-a") is None
    assert kube.get("namespaces", "default") is not None
