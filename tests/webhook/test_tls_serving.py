"""The webhook process over HTTPS against the emulator: the self-managed CA shared through one
Secret and published as the caBundle; serving continues across a CA rotation for a client that
trusts the published bundle; two replicas agree on one CA; mounted certificates reload."""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from strongroom_webhook import server
from strongroom_webhook.certs import authority, rotation
from tests import canary
from tests.kube import emulator
from tests.kube import server as kube_server
from tests.webhook import tlshelpers
from tests.webhook.conftest import (
    WEBHOOK_NAMESPACE,
    add_webhook_configuration,
    cluster_of,
    make_settings,
    pod,
    review,
)

# Short enough that a rotation happens within minutes of the test's clock, long enough that
# every certificate stays valid in real time (they are backdated an hour).
ROTATING = {
    "ca_validity_seconds": 10 * 86400.0,
    "ca_renew_before_seconds": 10 * 86400.0 - 600,
    "cert_validity_seconds": 86400.0,
    "cert_renew_before_seconds": 3600.0,
    "overlap_seconds": 120.0,
    "check_interval_seconds": 30.0,
}


@pytest.fixture
async def cluster(team: emulator.KubeEmulator) -> emulator.KubeEmulator:
    add_webhook_configuration(team)
    return team


@pytest.fixture
async def clock() -> tlshelpers.Clock:
    return tlshelpers.Clock()


@pytest.fixture
async def webhook(
    cluster: emulator.KubeEmulator, clock: tlshelpers.Clock
) -> AsyncIterator[server.Webhook]:
    instance = server.Webhook(make_settings(**ROTATING), cluster=cluster_of(cluster), clock=clock)
    async with instance.running():
        yield instance


def secret_state(kube: emulator.KubeEmulator) -> rotation.TlsState:
    secret = kube.get("secrets", "strongroom-webhook-tls", WEBHOOK_NAMESPACE)
    assert secret is not None
    for value in secret["data"].values():
        canary.register(value)
    return rotation.TlsState.from_data(secret["data"])


async def test_self_managed_webhook_serves_with_the_published_bundle(
    cluster: emulator.KubeEmulator, webhook: server.Webhook
) -> None:
    bundle = tlshelpers.published_bundle(cluster)
    assert bundle == secret_state(cluster).bundle
    assert await tlshelpers.healthz(webhook.port, bundle) == 200
    context = ssl.create_default_context(cadata=bundle.decode())
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"https://127.0.0.1:{webhook.port}/readyz",
            ssl=context,
            server_hostname=tlshelpers.SERVICE_NAME,
        ) as response:
            assert response.status == 200
        async with session.post(
            f"https://127.0.0.1:{webhook.port}/mutate",
            data=review(pod()),
            ssl=context,
            server_hostname=tlshelpers.SERVICE_NAME,
        ) as response:
            answer = await response.json()
        assert answer["response"]["allowed"] is True
        assert answer["response"]["patchType"] == "JSONPatch"
        async with session.post(
            f"https://127.0.0.1:{webhook.port}/mutate",
            data=b"<html>",
            ssl=context,
            server_hostname=tlshelpers.SERVICE_NAME,
        ) as response:
            assert response.status == 400
            assert "not JSON" in (await response.json())["message"]


async def test_serving_continues_across_a_ca_rotation(
    cluster: emulator.KubeEmulator,
    webhook: server.Webhook,
    clock: tlshelpers.Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = tlshelpers.published_bundle(cluster)
    previous = first
    counts = []
    for minutes in (11, 2, 2, 2):
        clock.advance(minutes=minutes, seconds=1)
        await webhook.keeper.check()
        bundle = tlshelpers.published_bundle(cluster)
        counts.append(tlshelpers.count_certificates(bundle))
        # an API server that has the new bundle, and one still holding the previous, connect
        assert await tlshelpers.healthz(webhook.port, bundle) == 200
        assert await tlshelpers.healthz(webhook.port, previous) == 200
        previous = bundle
    assert counts[0] == 2, "the new CA joined the bundle next to the old one"
    assert counts[-1] == 1, "the old CA left after the overlap"
    final = tlshelpers.published_bundle(cluster)
    assert final not in first
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        await tlshelpers.healthz(webhook.port, first)
    state = secret_state(cluster)
    assert "PRIVATE KEY" not in caplog.text
    assert state.to_data()["ca.key"][:40] not in caplog.text


async def test_two_replicas_starting_at_once_agree_on_one_ca(
    cluster: emulator.KubeEmulator, clock: tlshelpers.Clock
) -> None:
    replicas = [
        server.Webhook(make_settings(**ROTATING), cluster=cluster_of(cluster), clock=clock)
        for _ in range(2)
    ]
    try:
        await asyncio.gather(*(r.start() for r in replicas))
        creations = [p for m, p in cluster.requests if m == "POST" and p.endswith("/secrets")]
        assert len(creations) == 2, "both replicas tried to create the Secret; one adopted"
        state = secret_state(cluster)
        assert len(state.cas) == 1
        assert tlshelpers.published_bundle(cluster) == state.bundle
        assert replicas[0].tls.loaded == replicas[1].tls.loaded == state.serving.cert_pem
        # both rotate at the same moment: still one outcome
        clock.advance(minutes=11)
        await asyncio.gather(*(r.keeper.check() for r in replicas))
        rotated = secret_state(cluster)
        assert len(rotated.cas) == 2
        assert tlshelpers.published_bundle(cluster) == rotated.bundle
        for replica in replicas:
            await replica.keeper.check()
            assert replica.tls.loaded == rotated.serving.cert_pem
            assert await tlshelpers.healthz(replica.port, rotated.bundle) == 200
    finally:
        await asyncio.gather(*(r.stop() for r in replicas))


async def test_an_existing_secret_is_adopted_not_replaced(
    cluster: emulator.KubeEmulator, clock: tlshelpers.Clock
) -> None:
    state = rotation.fresh(
        clock(), server.timing(make_settings()), server.dns_names(make_settings())
    )
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "strongroom-webhook-tls", "namespace": WEBHOOK_NAMESPACE},
            "data": state.to_data(),
        }
    )
    async with server.Webhook(
        make_settings(), cluster=cluster_of(cluster), clock=clock
    ).running() as w:
        assert w.tls.loaded == state.serving.cert_pem
        assert tlshelpers.published_bundle(cluster) == state.bundle


async def test_a_corrupt_secret_is_replaced_with_a_new_ca(
    cluster: emulator.KubeEmulator, clock: tlshelpers.Clock
) -> None:
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "strongroom-webhook-tls", "namespace": WEBHOOK_NAMESPACE},
            "data": {"tls.crt": base64.b64encode(b"garbage").decode()},
        }
    )
    async with server.Webhook(
        make_settings(), cluster=cluster_of(cluster), clock=clock
    ).running() as w:
        assert await tlshelpers.healthz(w.port, secret_state(cluster).bundle) == 200


async def test_old_kubernetes_gets_a_clear_denial_through_the_server(
    cluster: emulator.KubeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(kube_server.VERSION, "minor", "28")
    async with server.Webhook(make_settings(), cluster=cluster_of(cluster)).running() as w:
        assert w.version.current == (1, 28)
        answer = await w.mutator.admit(review(pod()))
    assert answer["response"]["allowed"] is False
    assert "Kubernetes 1.28 is too old" in answer["response"]["status"]["message"]


def write_pair(directory: Path, pair: authority.KeyPair) -> None:
    """As the kubelet updates a mounted Secret: new files swapped in at once."""
    for name, content in (("tls.crt", pair.cert_pem), ("tls.key", pair.key_pem)):
        staged = directory / f".{name}.new"
        staged.write_bytes(content)
        staged.replace(directory / name)


def issued(ca: authority.KeyPair) -> authority.KeyPair:
    now = datetime.datetime.now(datetime.UTC)
    return authority.issue_serving(ca, [tlshelpers.SERVICE_NAME], now, datetime.timedelta(days=1))


@pytest.mark.parametrize("mode", ["secret", "cert-manager"])
async def test_mounted_certificates_are_reloaded_when_they_change(
    cluster: emulator.KubeEmulator, tmp_path: Path, mode: str
) -> None:
    now = datetime.datetime.now(datetime.UTC)
    first_ca, second_ca = (authority.issue_ca(now, datetime.timedelta(days=2)) for _ in range(2))
    write_pair(tmp_path, issued(first_ca))
    config = make_settings(tls_mode=mode, cert_dir=str(tmp_path))
    async with server.Webhook(config, cluster=cluster_of(cluster)).running() as w:
        assert await tlshelpers.healthz(w.port, first_ca.cert_pem) == 200
        write_pair(tmp_path, issued(second_ca))
        await w.keeper.check()
        assert await tlshelpers.healthz(w.port, second_ca.cert_pem) == 200
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await tlshelpers.healthz(w.port, first_ca.cert_pem)
        # a half-written update (a key that does not match) keeps the current certificate
        (tmp_path / "tls.crt").write_bytes(issued(first_ca).cert_pem)
        with pytest.raises(ssl.SSLError):
            await w.keeper.check()
        assert await tlshelpers.healthz(w.port, second_ca.cert_pem) == 200
    # self-managed objects are left alone in mounted modes
    assert cluster.get("secrets", "strongroom-webhook-tls", WEBHOOK_NAMESPACE) is None


async def test_readyz_is_503_until_the_version_is_known(cluster: emulator.KubeEmulator) -> None:
    w = server.Webhook(make_settings(), cluster=cluster_of(cluster))
    assert not w.ready
    async with w.running():
        assert w.ready
        w.version.current = None
        bundle = tlshelpers.published_bundle(cluster)
        context = ssl.create_default_context(cadata=bundle.decode())
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"https://127.0.0.1:{w.port}/readyz",
                ssl=context,
                server_hostname=tlshelpers.SERVICE_NAME,
            ) as response,
        ):
            assert response.status == 503
    assert json.dumps(w.settings.tls_mode)
