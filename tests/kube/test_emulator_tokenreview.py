"""TokenReview answers as the API server does for projected ServiceAccount tokens."""

from __future__ import annotations

from typing import Any

import pytest

from tests import canary
from tests.kube import apiclient, emulator, tokens

REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"


def review(token: str, *audiences: str) -> dict[str, Any]:
    return {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": token, "audiences": list(audiences)},
    }


@pytest.fixture
def token(kube: emulator.KubeEmulator) -> str:
    kube.create_namespace("team-a")
    kube.create_pod("team-a", "web-0", service_account="shop")
    value = canary.new("sa-token")
    kube.register_token(value, namespace="team-a", service_account="shop", pod="web-0")
    return value


async def test_a_bound_token_reviews_as_its_service_account_and_pod(
    raw: apiclient.Raw, kube: emulator.KubeEmulator, token: str
) -> None:
    status, body = await raw.call("POST", REVIEWS, review(token, "strongroom"))
    assert status == 201
    result = body["status"]
    assert result["authenticated"] is True
    assert result["audiences"] == ["strongroom"]
    user = result["user"]
    assert user["username"] == "system:serviceaccount:team-a:shop"
    assert "system:serviceaccounts:team-a" in user["groups"]
    pod = kube.get("pods", "web-0", "team-a")
    assert pod is not None
    assert user["extra"] == {
        tokens.POD_NAME: ["web-0"],
        tokens.POD_UID: [pod["metadata"]["uid"]],
    }
    assert token not in str(body)


async def test_a_token_for_another_audience_is_not_authenticated(
    raw: apiclient.Raw, token: str
) -> None:
    _, body = await raw.call("POST", REVIEWS, review(token, "vault"))
    assert body["status"]["authenticated"] is False
    assert "audience" in body["status"]["error"]
    _, default = await raw.call("POST", REVIEWS, review(token))
    assert default["status"]["authenticated"] is False  # the API server's own audience


async def test_an_unknown_token_is_not_authenticated(raw: apiclient.Raw) -> None:
    _, body = await raw.call("POST", REVIEWS, review("nobody", "strongroom"))
    assert body["status"] == {"authenticated": False, "user": {}, "error": "invalid bearer token"}


async def test_a_token_of_a_deleted_pod_stops_authenticating(
    raw: apiclient.Raw, kube: emulator.KubeEmulator, token: str
) -> None:
    kube.delete("pods", "web-0", "team-a")
    _, body = await raw.call("POST", REVIEWS, review(token, "strongroom"))
    assert body["status"]["authenticated"] is False
    kube.create_pod("team-a", "web-0", service_account="shop")  # same name, new uid
    _, again = await raw.call("POST", REVIEWS, review(token, "strongroom"))
    assert again["status"]["authenticated"] is False


async def test_a_revoked_token_is_not_authenticated(
    raw: apiclient.Raw, kube: emulator.KubeEmulator, token: str
) -> None:
    kube.revoke_token(token)
    _, body = await raw.call("POST", REVIEWS, review(token, "strongroom"))
    assert body["status"]["authenticated"] is False


async def test_binding_to_a_missing_pod_is_refused(kube: emulator.KubeEmulator) -> None:
    with pytest.raises(KeyError, match="create_pod"):
        kube.register_token("t", namespace="default", service_account="x", pod="ghost")


async def test_reviews_are_not_stored_and_only_created(raw: apiclient.Raw) -> None:
    status, _ = await raw.call("GET", REVIEWS)
    assert status == 405


async def test_the_injected_sidecar_is_a_native_sidecar(kube: emulator.KubeEmulator) -> None:
    pod = kube.create_pod("default", "web", sidecar_image="strongroom/sidecar:1")
    (sidecar,) = pod["spec"]["initContainers"]
    assert sidecar == {
        "name": emulator.SIDECAR_CONTAINER,
        "image": "strongroom/sidecar:1",
        "restartPolicy": "Always",
    }
    assert pod["status"]["phase"] == "Running"
    plain = kube.create_pod("default", "plain", sidecar=False)
    assert "initContainers" not in plain["spec"]


async def test_a_token_request_mints_a_pod_bound_token_that_reviews_until_the_pod_goes(
    raw: apiclient.Raw, kube: emulator.KubeEmulator
) -> None:
    kube.create_namespace("team-a")
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "shop", "namespace": "team-a"},
        }
    )
    pod = kube.create_pod("team-a", "web-0", service_account="shop")
    request = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {
            "audiences": ["strongroom"],
            "boundObjectRef": {
                "kind": "Pod",
                "apiVersion": "v1",
                "name": "web-0",
                "uid": pod["metadata"]["uid"],
            },
        },
    }
    path = "/api/v1/namespaces/team-a/serviceaccounts/shop/token"
    status, body = await raw.call("POST", path, request)
    assert status == 201
    token = body["status"]["token"]
    canary.register(token)
    assert token.count(".") == 2  # JWT-shaped, with the claims of a projected token
    _, reviewed = await raw.call("POST", REVIEWS, review(token, "strongroom"))
    assert reviewed["status"]["user"]["extra"][tokens.POD_NAME] == ["web-0"]
    kube.delete("pods", "web-0", "team-a")
    _, reviewed = await raw.call("POST", REVIEWS, review(token, "strongroom"))
    assert reviewed["status"]["authenticated"] is False


async def test_a_token_request_needs_its_service_account_and_pod(
    raw: apiclient.Raw, kube: emulator.KubeEmulator
) -> None:
    kube.create_namespace("team-a")
    path = "/api/v1/namespaces/team-a/serviceaccounts/{}/token"
    bound = {"spec": {"boundObjectRef": {"kind": "Pod", "name": "gone"}}}
    assert (await raw.call("POST", path.format("nobody"), {"spec": {}}))[0] == 404
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "shop", "namespace": "team-a"},
        }
    )
    assert (await raw.call("POST", path.format("shop"), bound))[0] == 404
    assert (await raw.call("GET", path.format("shop")))[0] == 405
