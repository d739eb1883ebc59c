"""Reaching the API server: kubeconfig, in-cluster, token files re-read, CA bundles, errors."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
import yaml

from strongroom_kube import client, config
from strongroom_operator.kubestore import connecting, storage
from tests import canary
from tests.kube import emulator

NAMESPACE = emulator.CONTROL_PLANE_NAMESPACE


async def test_a_rotated_token_file_is_read_on_the_next_request(
    kube: emulator.KubeEmulator, tmp_path: Path
) -> None:
    first, second = canary.new("tok"), canary.new("tok")
    kube.add_admin_token(first)
    token_file = tmp_path / "token"
    token_file.write_text(first)
    cluster = config.ClusterConfig(server=kube.url, token_file=token_file)
    async with storage.KubernetesStorage(client.KubeClient(cluster), NAMESPACE) as store:
        await store.current_revision()
        kube.add_admin_token(second)
        kube.remove_admin_token(first)
        token_file.write_text(second + "\n")
        await store.current_revision()


async def test_a_refused_token_is_an_api_error_without_the_token(
    kube: emulator.KubeEmulator,
) -> None:
    token = canary.new("bad-token")
    cluster = config.ClusterConfig(server=kube.url, token=token)
    async with storage.KubernetesStorage(client.KubeClient(cluster), NAMESPACE) as store:
        with pytest.raises(client.ApiError) as caught:
            await store.get_grant("team-a", "g1")
    assert caught.value.status == 401
    assert token not in str(caught.value)
    assert token not in repr(cluster)


async def test_a_missing_token_file_names_the_file(tmp_path: Path) -> None:
    cluster = config.ClusterConfig(server="http://127.0.0.1:1", token_file=tmp_path / "nope")
    with pytest.raises(config.ConfigError, match="nope"):
        cluster.read_token()


async def test_tls_with_the_kubeconfigs_ca_bundle(tmp_path: Path) -> None:
    async with emulator.KubeEmulator.start(tls_enabled=True, crds=None) as kube:
        canary.register(kube.admin_token)
        cluster = config.from_kubeconfig(kube.kubeconfig)
        assert cluster.server.startswith("https://")
        async with storage.KubernetesStorage(client.KubeClient(cluster), NAMESPACE) as store:
            assert await store.current_revision() > 0
        untrusted = config.ClusterConfig(server=kube.url, token=kube.admin_token)
        async with storage.KubernetesStorage(client.KubeClient(untrusted), NAMESPACE) as store:
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await store.current_revision()


def write(path: Path, document: object) -> Path:
    path.write_text(yaml.safe_dump(document))
    return path


def kubeconfig(user: dict[str, object], cluster: dict[str, object]) -> dict[str, object]:
    return {
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "n"}}],
        "current-context": "x",
    }


def test_kubeconfig_token_files_and_cas_are_relative_to_the_file(tmp_path: Path) -> None:
    document = kubeconfig(
        {"tokenFile": "token"}, {"server": "https://k:6443/", "certificate-authority": "ca.crt"}
    )
    cluster = config.from_kubeconfig(write(tmp_path / "config", document))
    assert cluster.server == "https://k:6443"
    assert (cluster.token_file, cluster.ca_file) == (tmp_path / "token", tmp_path / "ca.crt")
    assert cluster.namespace == "n"


def test_kubeconfig_with_client_certificates_is_refused_naming_the_user(
    tmp_path: Path,
) -> None:
    document = kubeconfig({"client-certificate": "c.pem"}, {"server": "https://k"})
    with pytest.raises(config.ConfigError, match=r"'u'.*token"):
        config.from_kubeconfig(write(tmp_path / "config", document))


def test_kubeconfig_without_a_current_context_says_so(tmp_path: Path) -> None:
    document = kubeconfig({"token": "t"}, {"server": "https://k"})
    del document["current-context"]
    with pytest.raises(config.ConfigError, match="current-context"):
        config.from_kubeconfig(write(tmp_path / "config", document))


def test_kubeconfig_context_naming_a_missing_cluster_says_which(tmp_path: Path) -> None:
    document = kubeconfig({"token": "t"}, {"server": "https://k"})
    with pytest.raises(config.ConfigError, match="no context named 'other'"):
        config.from_kubeconfig(write(tmp_path / "config", document), context="other")


def test_in_cluster_reads_the_service_account_mount(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "namespace").write_text("strongroom-system\n")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    cluster = config.in_cluster(tmp_path)
    assert cluster.server == "https://10.0.0.1:443"
    assert (cluster.token_file, cluster.ca_file) == (tmp_path / "token", tmp_path / "ca.crt")
    assert cluster.namespace == "strongroom-system"


def test_in_cluster_outside_a_cluster_says_to_give_a_kubeconfig(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(config.ConfigError, match="kubeconfig"):
        config.in_cluster()


async def test_open_storage_finds_the_cluster_from_kubeconfig_env(
    kube: emulator.KubeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))
    opened = await connecting.open_storage(namespace=NAMESPACE)
    try:
        assert opened.namespace == NAMESPACE
        assert await opened.current_revision() > 0
    finally:
        await opened.close()


async def test_open_storage_without_a_namespace_says_to_pass_one(
    kube: emulator.KubeEmulator,
) -> None:
    with pytest.raises(config.ConfigError, match="namespace="):
        await connecting.open_storage(kubeconfig=kube.kubeconfig)
