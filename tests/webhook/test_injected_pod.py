"""What an injected pod looks like once the patch is applied (RFC 6902, by the ``jsonpatch``
library the emulator uses too): the native sidecar, its token and CA mounted into it alone, its
own UID, its settings readable by the sidecar, the URL in the app's containers."""

from __future__ import annotations

import re
from typing import Any

import jsonpatch

from strongroom_core import podspec
from strongroom_kube import client, config
from strongroom_sidecar import settings as sidecar_settings
from strongroom_webhook import apps, mutating, reviews
from tests.webhook.conftest import NAMESPACE, make_settings, pod, review


async def injected(mutator: mutating.Mutator, body: dict[str, Any]) -> dict[str, Any]:
    answer = await mutator.admit(review(body))
    assert answer["response"]["allowed"] is True, answer["response"].get("status")
    patched: dict[str, Any] = jsonpatch.apply_patch(body, reviews.decoded_patch(answer))
    return patched


def sidecar_of(patched: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = patched["spec"]["initContainers"][0]
    assert first["name"] == podspec.SIDECAR_CONTAINER_NAME
    return first


async def test_sidecar_is_a_native_sidecar_so_jobs_finish(mutator: mutating.Mutator) -> None:
    patched = await injected(mutator, pod(restartPolicy="Never"))
    sidecar = sidecar_of(patched)
    assert sidecar["restartPolicy"] == "Always"
    assert all(c["name"] != podspec.SIDECAR_CONTAINER_NAME for c in patched["spec"]["containers"])
    assert sidecar["startupProbe"]["httpGet"] == {
        "path": "/readyz",
        "port": podspec.HEALTH_PORT,
        "scheme": "HTTP",
    }
    assert sidecar["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert patched["spec"]["restartPolicy"] == "Never"


async def test_sidecar_runs_before_the_pods_own_init_containers(
    mutator: mutating.Mutator,
) -> None:
    body = pod(init_containers=[{"name": "migrate", "image": "m"}, {"name": "seed", "image": "s"}])
    patched = await injected(mutator, body)
    names = [c["name"] for c in patched["spec"]["initContainers"]]
    assert names == [podspec.SIDECAR_CONTAINER_NAME, "migrate", "seed"]
    for init in patched["spec"]["initContainers"][1:]:
        assert init["env"][0] == {"name": "STRONGROOM_URL", "value": "http://127.0.0.1:15080"}


async def test_token_and_ca_are_mounted_into_the_sidecar_only(mutator: mutating.Mutator) -> None:
    body = pod(containers=[{"name": "app", "image": "a"}, {"name": "worker", "image": "w"}])
    patched = await injected(mutator, body)
    volumes = {v["name"]: v for v in patched["spec"]["volumes"]}
    token = volumes[podspec.TOKEN_VOLUME_NAME]["projected"]["sources"][0]["serviceAccountToken"]
    assert token == {"audience": "strongroom", "expirationSeconds": 3600, "path": "token"}
    assert volumes[podspec.CA_VOLUME_NAME]["configMap"]["name"] == "strongroom-ca"
    mounts = {m["name"] for m in sidecar_of(patched)["volumeMounts"]}
    assert mounts == {podspec.TOKEN_VOLUME_NAME, podspec.CA_VOLUME_NAME}
    for container in patched["spec"]["containers"]:
        assert "volumeMounts" not in container


async def test_sidecar_runs_under_its_own_uid_locked_down(mutator: mutating.Mutator) -> None:
    context = sidecar_of(await injected(mutator, pod()))["securityContext"]
    assert context["runAsUser"] == podspec.SIDECAR_UID
    assert context["runAsNonRoot"] is True
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}


async def test_small_default_resources_and_overrides(mutator: mutating.Mutator) -> None:
    default = sidecar_of(await injected(mutator, pod()))["resources"]
    assert default == {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}
    body = pod(
        annotations={
            podspec.SIDECAR_CPU_LIMIT_ANNOTATION: "500m",
            podspec.SIDECAR_MEMORY_REQUEST_ANNOTATION: "64Mi",
            podspec.SIDECAR_MEMORY_LIMIT_ANNOTATION: "256Mi",
            podspec.SIDECAR_CPU_REQUEST_ANNOTATION: "",
        }
    )
    overridden = sidecar_of(await injected(mutator, body))["resources"]
    assert overridden == {
        "requests": {"memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }


def resolved_env(container: dict[str, Any], pod_name: str) -> dict[str, str]:
    """The environment as the kubelet would give it (downward API and $(VAR) references)."""
    values: dict[str, str] = {}
    for variable in container["env"]:
        if "valueFrom" in variable:
            field = variable["valueFrom"]["fieldRef"]["fieldPath"]
            value = {"metadata.name": pod_name, "metadata.namespace": NAMESPACE}[field]
        else:
            value = re.sub(r"\$\((\w+)\)", lambda m: values[m.group(1)], variable["value"])
        values[variable["name"]] = value
    return values


async def test_sidecar_settings_parse_from_the_injected_environment(
    mutator: mutating.Mutator,
) -> None:
    env = resolved_env(sidecar_of(await injected(mutator, pod())), "web-x1")
    parsed = sidecar_settings.SidecarSettings.from_env(env)
    assert parsed.app == "shop"
    assert parsed.namespace == NAMESPACE
    assert parsed.caller == "pod/web-x1"
    assert parsed.control_plane_url == mutator.settings.control_plane_url
    assert parsed.control_plane_token_file == f"{podspec.TOKEN_MOUNT_PATH}/token"
    assert parsed.control_plane_ca_file == f"{podspec.CA_MOUNT_PATH}/ca.crt"
    unknown = {
        name
        for name in env
        if name.startswith("STRONGROOM_SIDECAR_")
        and name.removeprefix("STRONGROOM_SIDECAR_").lower()
        not in sidecar_settings.SidecarSettings.__dataclass_fields__
    }
    assert not unknown


async def test_every_app_container_gets_the_url_and_a_user_value_is_kept(
    mutator: mutating.Mutator,
) -> None:
    body = pod(
        containers=[
            {"name": "app", "image": "a", "env": [{"name": "B", "value": "$(STRONGROOM_URL)/x"}]},
            {"name": "own", "image": "o", "env": [{"name": "STRONGROOM_URL", "value": "http://x"}]},
        ]
    )
    patched = await injected(mutator, body)
    app, own = patched["spec"]["containers"]
    assert [e["name"] for e in app["env"]] == ["STRONGROOM_URL", "B"]
    assert own["env"] == [{"name": "STRONGROOM_URL", "value": "http://x"}]


async def test_second_pass_changes_nothing(mutator: mutating.Mutator) -> None:
    patched = await injected(mutator, pod(init_containers=[{"name": "m", "image": "m"}]))
    again = await mutator.admit(review(patched))
    assert again["response"]["allowed"] is True
    assert reviews.decoded_patch(again) == []


async def test_no_ca_configmap_means_no_ca_volume(team: Any) -> None:
    async with client.KubeClient(config.ClusterConfig(team.url, token=team.admin_token)) as api:
        plain = mutating.Mutator(
            make_settings(control_plane_ca_configmap=""), apps.KubeApps(api), lambda: (1, 30)
        )
        patched = await injected(plain, pod())
    assert [v["name"] for v in patched["spec"]["volumes"]] == [podspec.TOKEN_VOLUME_NAME]
    names = {e["name"] for e in sidecar_of(patched)["env"]}
    assert "STRONGROOM_SIDECAR_CONTROL_PLANE_CA_FILE" not in names


async def test_unreachable_api_server_is_a_denial_not_a_crash() -> None:
    dead = config.ClusterConfig("http://127.0.0.1:9", token="x")
    async with client.KubeClient(dead, request_timeout=2) as api:
        unreachable = mutating.Mutator(make_settings(), apps.KubeApps(api), lambda: (1, 31))
        answer = await unreachable.admit(review(pod()))
    assert answer["response"]["allowed"] is False
    assert "cannot read App team-a/shop" in answer["response"]["status"]["message"]
