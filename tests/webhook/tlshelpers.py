"""Helpers for the TLS tests: a clock the test moves, and a client that trusts a given bundle
and names the webhook's Service as the API server does."""

from __future__ import annotations

import base64
import datetime
import ssl

import aiohttp

from tests.kube import emulator
from tests.webhook.conftest import WEBHOOK_NAMESPACE

SERVICE_NAME = f"strongroom-webhook.{WEBHOOK_NAMESPACE}.svc"


class Clock:
    """Real time plus an offset the test advances. Certificates are backdated an hour, so an
    offset of less than that keeps them valid for real TLS handshakes."""

    def __init__(self) -> None:
        self.offset = datetime.timedelta()

    def __call__(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += datetime.timedelta(**delta)


def published_bundle(kube: emulator.KubeEmulator) -> bytes:
    configuration = kube.get("mutatingwebhookconfigurations", "strongroom-webhook")
    assert configuration is not None
    bundles = {w["clientConfig"]["caBundle"] for w in configuration["webhooks"]}
    assert len(bundles) == 1
    return base64.b64decode(bundles.pop())


def count_certificates(bundle: bytes) -> int:
    return bundle.count(b"-----BEGIN CERTIFICATE-----")


async def healthz(port: int, bundle: bytes) -> int:
    """GET /healthz over a fresh connection trusting only ``bundle``."""
    context = ssl.create_default_context(cadata=bundle.decode())
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"https://127.0.0.1:{port}/healthz", ssl=context, server_hostname=SERVICE_NAME
        ) as response,
    ):
        return response.status
