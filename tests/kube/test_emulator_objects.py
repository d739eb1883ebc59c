"""CRUD: server-assigned metadata, 201/409, compare-and-swap, the status subresource, Secrets."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kube import apiclient, emulator, patching

SECRETS = "/api/v1/namespaces/default/secrets"
APPS = "/apis/strongroom.dev/v1alpha1/namespaces/default/apps"


async def test_create_answers_201_with_server_assigned_metadata(raw: apiclient.Raw) -> None:
    status, first = await raw.call("POST", SECRETS, apiclient.secret("a", token="x"))
    assert status == 201
    meta = first["metadata"]
    assert (meta["namespace"], meta["generation"]) == ("default", 1)
    assert meta["uid"]
    assert meta["creationTimestamp"]
    _, second = await raw.call("POST", SECRETS, apiclient.secret("b"))
    assert int(second["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    assert first["data"] == {"token": "eA=="}  # stringData folded into base64 data


async def test_creating_twice_is_409_already_exists_as_a_status_object(
    raw: apiclient.Raw,
) -> None:
    await raw.call("POST", SECRETS, apiclient.secret("a"))
    status, body = await raw.call("POST", SECRETS, apiclient.secret("a"))
    assert status == 409
    assert body["kind"] == "Status"
    assert (body["reason"], body["code"]) == ("AlreadyExists", 409)
    assert body["message"] == 'secrets "a" already exists'


async def test_a_missing_object_is_404_not_found(raw: apiclient.Raw) -> None:
    status, body = await raw.call("GET", f"{SECRETS}/nope")
    assert (status, body["reason"]) == (404, "NotFound")


async def test_an_unknown_path_is_404(raw: apiclient.Raw) -> None:
    status, body = await raw.call("GET", "/apis/strongroom.dev/v1alpha1/namespaces/x/wombats")
    assert (status, body["kind"]) == (404, "Status")


async def test_a_request_without_a_known_token_is_401(raw: apiclient.Raw) -> None:
    status, body = await raw.call("GET", SECRETS, token="wrong")
    assert (status, body["reason"]) == (401, "Unauthorized")


async def test_a_forbidden_verb_is_403_as_rbac_words_it_and_other_verbs_still_work(
    raw: apiclient.Raw, kube: emulator.KubeEmulator
) -> None:
    await raw.call("POST", SECRETS, apiclient.secret("a"))
    kube.forbid("DELETE", "secrets")
    status, body = await raw.call("DELETE", f"{SECRETS}/a")
    assert (status, body["reason"], body["code"]) == (403, "Forbidden", 403)
    assert 'cannot delete resource "secrets"' in body["message"]
    assert (await raw.call("GET", f"{SECRETS}/a"))[0] == 200


async def test_put_with_a_stale_resource_version_is_409_conflict(raw: apiclient.Raw) -> None:
    _, created = await raw.call("POST", SECRETS, apiclient.secret("a", v="1"))
    stale = created["metadata"]["resourceVersion"]
    created["stringData"] = {"v": "2"}
    status, updated = await raw.call("PUT", f"{SECRETS}/a", created)
    assert status == 200
    assert updated["metadata"]["resourceVersion"] != stale
    created["stringData"] = {"v": "3"}
    created["metadata"]["resourceVersion"] = stale
    status, body = await raw.call("PUT", f"{SECRETS}/a", created)
    assert (status, body["reason"]) == (409, "Conflict")
    assert "the object has been modified" in body["message"]
    _, stored = await raw.call("GET", f"{SECRETS}/a")
    assert stored["data"]["v"] == "Mg=="


async def test_merge_patch_with_a_stale_resource_version_is_409(raw: apiclient.Raw) -> None:
    _, created = await raw.call("POST", SECRETS, apiclient.secret("a"))
    rv = created["metadata"]["resourceVersion"]
    patch = {"metadata": {"labels": {"x": "1"}, "resourceVersion": rv}}
    status, _ = await raw.call("PATCH", f"{SECRETS}/a", patch, content_type=patching.MERGE)
    assert status == 200
    status, body = await raw.call("PATCH", f"{SECRETS}/a", patch, content_type=patching.MERGE)
    assert (status, body["reason"]) == (409, "Conflict")


async def test_a_failed_json_patch_test_is_422(raw: apiclient.Raw) -> None:
    await raw.call("POST", SECRETS, apiclient.secret("a"))
    ops = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "1"},
        {"op": "add", "path": "/metadata/labels/x", "value": "1"},
    ]
    status, body = await raw.call("PATCH", f"{SECRETS}/a", ops, content_type=patching.JSON_PATCH)
    assert (status, body["reason"]) == (422, "Invalid")


async def test_strategic_merge_unions_finalizers_and_merges_named_lists(
    kube: emulator.KubeEmulator, raw: apiclient.Raw
) -> None:
    kube.create_pod("default", "web")
    patch: dict[str, Any] = {
        "metadata": {"finalizers": ["a"]},
        "spec": {"containers": [{"name": "app", "image": "example/app:2"}]},
    }
    path = "/api/v1/namespaces/default/pods/web"
    await raw.call("PATCH", path, patch, content_type=patching.STRATEGIC)
    patch["metadata"]["finalizers"] = ["b"]
    status, pod = await raw.call("PATCH", path, patch, content_type=patching.STRATEGIC)
    assert status == 200
    assert pod["metadata"]["finalizers"] == ["a", "b"]
    assert pod["spec"]["containers"] == [{"name": "app", "image": "example/app:2"}]


async def test_server_side_apply_is_refused_with_415(raw: apiclient.Raw) -> None:
    await raw.call("POST", SECRETS, apiclient.secret("a"))
    status, _ = await raw.call(
        "PATCH", f"{SECRETS}/a", {}, content_type="application/apply-patch+yaml"
    )
    assert status == 415


async def test_status_subresource_is_separate_from_the_main_resource(
    raw: apiclient.Raw,
) -> None:
    body = apiclient.app("shop")
    body["status"] = {"state": "Forged"}
    status, created = await raw.call("POST", APPS, body)
    assert status == 201
    assert "status" not in created  # create ignores status
    patch = {"status": {"state": "Ready"}, "spec": {"serviceAccounts": ["evil"]}}
    _, after_status = await raw.call(
        "PATCH", f"{APPS}/shop/status", patch, content_type=patching.MERGE
    )
    assert after_status["status"] == {"state": "Ready"}
    assert after_status["spec"]["serviceAccounts"] == ["shop"]  # /status writes only status
    assert after_status["metadata"]["generation"] == 1
    _, after_main = await raw.call("PATCH", f"{APPS}/shop", patch, content_type=patching.MERGE)
    assert after_main["status"] == {"state": "Ready"}  # main writes ignore status
    assert after_main["spec"]["serviceAccounts"] == ["evil"]
    assert after_main["metadata"]["generation"] == 2  # spec changed


async def test_metadata_only_changes_keep_the_generation(raw: apiclient.Raw) -> None:
    await raw.call("POST", APPS, apiclient.app("shop"))
    patch = {"metadata": {"labels": {"tier": "gold"}}}
    _, patched = await raw.call("PATCH", f"{APPS}/shop", patch, content_type=patching.MERGE)
    assert patched["metadata"]["generation"] == 1
    assert patched["metadata"]["labels"] == {"tier": "gold"}


async def test_a_no_op_write_keeps_the_resource_version(raw: apiclient.Raw) -> None:
    _, created = await raw.call("POST", APPS, apiclient.app("shop"))
    _, same = await raw.call("PATCH", f"{APPS}/shop", {}, content_type=patching.MERGE)
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_server_assigned_fields_cannot_be_overwritten(raw: apiclient.Raw) -> None:
    _, created = await raw.call("POST", APPS, apiclient.app("shop"))
    patch = {"metadata": {"uid": "forged", "generation": 99, "creationTimestamp": "x"}}
    _, patched = await raw.call("PATCH", f"{APPS}/shop", patch, content_type=patching.MERGE)
    for field in ("uid", "generation", "creationTimestamp"):
        assert patched["metadata"][field] == created["metadata"][field]


async def test_a_name_that_differs_from_the_url_is_400(raw: apiclient.Raw) -> None:
    _, created = await raw.call("POST", SECRETS, apiclient.secret("a"))
    created["metadata"]["name"] = "b"
    status, _ = await raw.call("PUT", f"{SECRETS}/a", created)
    assert status == 400


async def test_a_namespace_in_the_body_that_differs_from_the_url_is_400(
    raw: apiclient.Raw,
) -> None:
    body = apiclient.secret("a")
    body["metadata"]["namespace"] = "kube-system"
    status, body = await raw.call("POST", SECRETS, body)
    assert (status, body["reason"]) == (400, "BadRequest")


async def test_secret_data_must_be_base64(raw: apiclient.Raw) -> None:
    body = {"metadata": {"name": "a"}, "data": {"k": "not base64!"}}
    status, answer = await raw.call("POST", SECRETS, body)
    assert (status, answer["reason"]) == (422, "Invalid")
    assert "data[k]" in answer["message"]


async def test_generate_name_gets_a_suffix(raw: apiclient.Raw) -> None:
    status, created = await raw.call("POST", SECRETS, {"metadata": {"generateName": "key-"}})
    assert status == 201
    assert created["metadata"]["name"].startswith("key-")
    assert len(created["metadata"]["name"]) > len("key-")


async def test_helpers_act_like_requests(kube: emulator.KubeEmulator) -> None:
    created = kube.create(
        {**apiclient.app("shop"), "metadata": {"name": "shop", "namespace": "default"}}
    )
    assert kube.get("apps.strongroom.dev", "shop", "default") == created
    kube.patch("apps.strongroom.dev", "shop", {"status": {"state": "Ready"}}, "default", "status")
    assert kube.list("apps.strongroom.dev", "default")[0]["status"] == {"state": "Ready"}
    with pytest.raises(KeyError, match="wombats"):
        kube.resource("wombats")
