"""Sidecar authentication by TokenReview: each way a token or its pod can be wrong is refused
with its own code and leaves an ``auth.refused`` audit record; a sidecar the webhook injected,
running as a ServiceAccount the App allows, gets its App's keys."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from strongroom_operator.controlplane import command, keyservice
from tests import canary
from tests.controlplane import harness as h
from tests.controlplane_kube import conftest, pods
from tests.kube import emulator

KEYS = "/v1/apps/team-a/shop/keys"
TOKENREVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"


def _wrong_audience(kube: emulator.KubeEmulator) -> str:
    pod = pods.sidecar_pod(kube, "web-0")
    return pods.pod_token(kube, pod, audiences=["https://kubernetes.default.svc"])


def _no_sidecar(kube: emulator.KubeEmulator) -> str:
    return pods.pod_token(kube, pods.sidecar_pod(kube, "web-0", sidecar=False))


def _other_image(kube: emulator.KubeEmulator) -> str:
    return pods.pod_token(kube, pods.sidecar_pod(kube, "web-0", image="evil/proxy:1"))


def _service_account_not_allowed(kube: emulator.KubeEmulator) -> str:
    return pods.pod_token(kube, pods.sidecar_pod(kube, "web-0", service_account="intruder"))


def _deleted_pod(kube: emulator.KubeEmulator) -> str:
    token = pods.pod_token(kube, pods.sidecar_pod(kube, "web-0"))
    kube.delete("pods", "web-0", pods.NAMESPACE)
    return token


def _replaced_pod(kube: emulator.KubeEmulator) -> str:
    token = pods.pod_token(kube, pods.sidecar_pod(kube, "web-0"))
    kube.delete("pods", "web-0", pods.NAMESPACE)
    pods.sidecar_pod(kube, "web-0")  # same name, new uid
    return token


def _unknown_app(kube: emulator.KubeEmulator) -> str:
    return pods.pod_token(kube, pods.sidecar_pod(kube, "web-0", app="nope"))


def _no_app_annotation(kube: emulator.KubeEmulator) -> str:
    return pods.pod_token(kube, pods.sidecar_pod(kube, "web-0", app=None))


def _unknown_token(kube: emulator.KubeEmulator) -> str:
    return canary.new("never-issued")


def _not_bound_to_a_pod(kube: emulator.KubeEmulator) -> str:
    token = pods.projected_token(pods.NAMESPACE, "shop", None, None, ["strongroom"])
    kube.register_token(token, namespace=pods.NAMESPACE, service_account="shop")
    return token


REFUSALS: list[tuple[Callable[[emulator.KubeEmulator], str], int, str, str]] = [
    (_wrong_audience, 401, "wrong_audience", "pod/web-0"),
    (_no_sidecar, 403, "sidecar_missing", "pod/web-0"),
    (_other_image, 403, "sidecar_image_mismatch", "pod/web-0"),
    (_service_account_not_allowed, 403, "service_account_not_allowed", "pod/web-0"),
    (_deleted_pod, 401, "pod_not_found", "pod/web-0"),
    (_replaced_pod, 401, "pod_replaced", "pod/web-0"),
    (_unknown_app, 403, "app_not_found", "pod/web-0"),
    (_no_app_annotation, 403, "app_annotation_missing", "pod/web-0"),
    (_unknown_token, 401, "token_rejected", "unknown"),
    (_not_bound_to_a_pod, 401, "not_a_pod_token", "serviceaccount/team-a/shop"),
]


@pytest.mark.parametrize(
    ("make_token", "status", "code", "who"), REFUSALS, ids=[r[2] for r in REFUSALS]
)
async def test_a_wrong_token_or_pod_is_refused_with_its_code_and_audited(
    cluster: emulator.KubeEmulator,
    control_plane: command.Running,
    client: aiohttp.ClientSession,
    tmp_path: Path,
    make_token: Callable[[emulator.KubeEmulator], str],
    status: int,
    code: str,
    who: str,
) -> None:
    token = make_token(cluster)
    async with client.get(control_plane.url + KEYS, headers=h.bearer(token)) as response:
        assert response.status == status
        problem = await h.problem_of(response)
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert problem["code"] == code
    refused = await conftest.audit_records(tmp_path / "audit.db", kind="auth.refused")
    assert len(refused) == 1
    assert str(refused[0]["reason"]).startswith(f"{code}: ")
    assert refused[0]["caller"] == who
    assert refused[0]["decision"] == "deny"
    assert refused[0]["status"] == status
    assert not canary.found_in(str(refused))


async def test_the_injected_sidecar_of_an_allowed_service_account_gets_its_apps_keys(
    cluster: emulator.KubeEmulator, control_plane: command.Running, client: aiohttp.ClientSession
) -> None:
    cp = control_plane.control_plane
    assert isinstance(cp.key_service, keyservice.KeyService)
    await cp.key_service.ensure_app_keys(pods.NAMESPACE, pods.APP)
    token = pods.pod_token(cluster, pods.sidecar_pod(cluster, "web-0"))
    async with client.get(control_plane.url + KEYS, headers=h.bearer(token)) as response:
        assert response.status == 200
        assert len((await response.json())["keys"]) == 1


@pytest.mark.parametrize("path", ["keys", "grants/deploy", "watch"], ids=["keys", "grant", "watch"])
async def test_a_sidecar_asking_for_another_apps_path_is_forbidden_and_audited(
    cluster: emulator.KubeEmulator,
    control_plane: command.Running,
    client: aiohttp.ClientSession,
    tmp_path: Path,
    path: str,
) -> None:
    pods.create_app(cluster, "blog")
    token = pods.pod_token(cluster, pods.sidecar_pod(cluster, "web-0"))
    url = control_plane.url + f"/v1/apps/team-a/blog/{path}"
    async with client.get(url, headers=h.bearer(token)) as response:
        assert response.status == 403
        problem = await h.problem_of(response)
    assert problem["code"] == "forbidden"
    assert "acts for App team-a/shop" in problem["detail"]
    (refused,) = await conftest.audit_records(tmp_path / "audit.db", kind="auth.refused")
    assert (refused["namespace"], refused["app"], refused["caller"]) == (
        "team-a",
        "blog",
        "pod/web-0",
    )
    assert refused["status"] == 403
    assert str(refused["reason"]).startswith("forbidden: this sidecar acts for App team-a/shop")
    assert not canary.found_in(str(refused))


async def test_an_admin_asking_for_an_apps_keys_is_forbidden_and_audited(
    cluster: emulator.KubeEmulator,
    control_plane: command.Running,
    client: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    admin = pods.projected_token("strongroom-system", "strongroom-cli", None, None, ["strongroom"])
    cluster.register_token(admin, namespace="strongroom-system", service_account="strongroom-cli")
    async with client.get(control_plane.url + KEYS, headers=h.bearer(admin)) as response:
        assert response.status == 403
    (refused,) = await conftest.audit_records(tmp_path / "audit.db", kind="auth.refused")
    assert refused["caller"] == conftest.ADMIN_SA
    assert (refused["namespace"], refused["app"]) == ("team-a", "shop")


async def test_an_accepted_token_is_reviewed_once_then_served_from_the_cache(
    cluster: emulator.KubeEmulator, control_plane: command.Running, client: aiohttp.ClientSession
) -> None:
    token = pods.pod_token(cluster, pods.sidecar_pod(cluster, "web-0"))
    for _ in range(3):
        async with client.get(control_plane.url + KEYS, headers=h.bearer(token)) as response:
            assert response.status == 404  # accepted; the App has no keys yet
            assert (await h.problem_of(response))["code"] == "not_found"
    reviews = [path for method, path in cluster.requests if path.startswith(TOKENREVIEWS)]
    assert len(reviews) == 1


async def test_an_admin_service_account_may_query_audit_but_a_sidecar_may_not(
    cluster: emulator.KubeEmulator, control_plane: command.Running, client: aiohttp.ClientSession
) -> None:
    admin = pods.projected_token("strongroom-system", "strongroom-cli", None, None, ["strongroom"])
    cluster.register_token(admin, namespace="strongroom-system", service_account="strongroom-cli")
    sidecar = pods.pod_token(cluster, pods.sidecar_pod(cluster, "web-0"))
    async with client.get(control_plane.url + "/v1/audit", headers=h.bearer(admin)) as response:
        assert response.status == 200
    async with client.get(control_plane.url + "/v1/audit", headers=h.bearer(sidecar)) as response:
        assert response.status == 403


async def test_the_strongroom_authorization_header_wins_over_a_proxys_authorization(
    cluster: emulator.KubeEmulator, control_plane: command.Running, client: aiohttp.ClientSession
) -> None:
    admin = pods.projected_token("strongroom-system", "strongroom-cli", None, None, ["strongroom"])
    cluster.register_token(admin, namespace="strongroom-system", service_account="strongroom-cli")
    headers = {
        "Authorization": f"Bearer {canary.new('proxy-credential')}",
        "Strongroom-Authorization": f"Bearer {admin}",
    }
    async with client.get(control_plane.url + "/v1/audit", headers=headers) as response:
        assert response.status == 200


async def test_a_kubernetes_api_that_cannot_be_reached_is_503_and_not_a_refusal(
    cluster: emulator.KubeEmulator,
    control_plane: command.Running,
    client: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    token = pods.pod_token(cluster, pods.sidecar_pod(cluster, "web-0"))
    authenticator = control_plane.control_plane.authenticator
    kube = authenticator.kube  # type: ignore[attr-defined]
    original = kube.cluster
    kube.cluster = dataclasses.replace(original, server="http://127.0.0.1:9")
    try:
        async with client.get(control_plane.url + KEYS, headers=h.bearer(token)) as response:
            assert response.status == 503
            assert (await h.problem_of(response))["code"] == "review_unavailable"
    finally:
        kube.cluster = original
    assert await conftest.audit_records(tmp_path / "audit.db", kind="auth.refused") == []
