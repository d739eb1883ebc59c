"""Fixtures: the emulator with App ``team-a/shop``, test certificates, and a control plane
started by the ``strongroom-controlplane`` composition (TLS, Kubernetes storage, SQLite audit
collector, TokenReview authentication)."""

from __future__ import annotations

import contextlib
import dataclasses
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from strongroom_core.storage import records, sqlite
from strongroom_operator.controlplane import command, tokenreview
from tests.controlplane_kube import certs, pods
from tests.kube import emulator, fixtures
from tests.kube.fixtures import kube

__all__ = ["kube", "no_tasks_left_behind", "tasks_checked"]

CONTROL_PLANE_NAMESPACE = emulator.CONTROL_PLANE_NAMESPACE
ADMIN_SA = "system:serviceaccount:strongroom-system:strongroom-cli"

no_tasks_left_behind = fixtures.no_tasks_left_behind


@pytest.fixture(autouse=True)
def tasks_checked(no_tasks_left_behind: None) -> None:
    """Every test here is checked for tasks left running."""


@pytest.fixture
def tls(tmp_path: Path) -> certs.Certificates:
    directory = tmp_path / "tls"
    directory.mkdir()
    return certs.issue(directory)


@pytest.fixture
def cluster(kube: emulator.KubeEmulator) -> emulator.KubeEmulator:
    kube.create_namespace(pods.NAMESPACE)
    pods.create_app(kube)
    return kube


def options(
    kube: emulator.KubeEmulator, tls: certs.Certificates, audit_db: Path | None, **changes: object
) -> command.Options:
    """A TLS replica on the emulator; ``audit_db`` None for a forwarding one (pass
    ``audit_url=`` and ``audit_token_file=`` in ``changes``)."""
    base = command.Options(
        host="127.0.0.1",
        port=0,
        tls_cert_file=tls.cert_file,
        tls_key_file=tls.key_file,
        namespace=CONTROL_PLANE_NAMESPACE,
        kubeconfig=kube.kubeconfig,
        audit_db=audit_db,
        review=tokenreview.ReviewSettings(
            sidecar_images=(pods.SIDECAR_IMAGE,), admin_users=frozenset({ADMIN_SA})
        ),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def control_plane(
    cluster: emulator.KubeEmulator, tls: certs.Certificates, tmp_path: Path
) -> AsyncIterator[command.Running]:
    async with command.running(options(cluster, tls, tmp_path / "audit.db")) as running:
        yield running


@pytest.fixture
async def client(tls: certs.Certificates) -> AsyncIterator[aiohttp.ClientSession]:
    context = ssl.create_default_context(cafile=str(tls.ca_file))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        yield session


async def audit_records(path: Path, **filters: str) -> list[dict[str, object]]:
    async with contextlib.AsyncExitStack() as stack:
        store = await stack.enter_async_context(sqlite.SqliteStorage(path))
        return await store.query_audit(records.AuditQuery(limit=1000, extra=filters))
