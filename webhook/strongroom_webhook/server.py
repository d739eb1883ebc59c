"""The webhook process: an aiohttp HTTPS server with ``POST /mutate`` (AdmissionReview v1),
``GET /healthz`` (the process answers) and ``GET /readyz`` (a certificate is loaded and the API
server's version is known), plus the keepers of its certificate and of that version.

Use::

    async with Webhook(settings).running() as webhook:   # or await start() / stop()
        webhook.port
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from strongroom_kube import client
from strongroom_kube import config as clusterconfig
from strongroom_webhook import apps, mutating, reviews, settings, versions
from strongroom_webhook.certs import keeping, rotation, serving, sharing

logger = logging.getLogger(__name__)
WEBHOOK_KEY: web.AppKey[Webhook] = web.AppKey("webhook")
MAX_BODY = 8 * 1024 * 1024
"""An AdmissionReview holds one pod (objects are at most 1.5 MiB in etcd) twice at most."""


def dns_names(config: settings.WebhookSettings) -> list[str]:
    """The names the API server may use for the Service in front of the webhook."""
    service, namespace = config.service_name, config.namespace
    return [
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
        f"{service}.{namespace}",
        service,
    ]


def timing(config: settings.WebhookSettings) -> rotation.Timing:
    return rotation.Timing(
        ca_validity=timedelta(seconds=config.ca_validity_seconds),
        ca_renew_before=timedelta(seconds=config.ca_renew_before_seconds),
        cert_validity=timedelta(seconds=config.cert_validity_seconds),
        cert_renew_before=timedelta(seconds=config.cert_renew_before_seconds),
        overlap=timedelta(seconds=config.overlap_seconds),
    )


class Webhook:
    def __init__(
        self,
        config: settings.WebhookSettings,
        *,
        cluster: clusterconfig.ClusterConfig | None = None,
        clock: sharing.Clock = sharing.utcnow,
    ) -> None:
        self.settings = config
        if cluster is None:
            cluster = (
                clusterconfig.from_kubeconfig(Path(config.kubeconfig))
                if config.kubeconfig
                else clusterconfig.in_cluster()
            )
        self.api = client.KubeClient(cluster, request_timeout=config.api_timeout_seconds)
        self.version = versions.ServerVersion(self.api, config.version_refresh_seconds)
        self.mutator = mutating.Mutator(
            config, apps.KubeApps(self.api), lambda: self.version.current
        )
        self.tls = serving.ServingContext()
        self.keeper: keeping.SelfManaged | keeping.Mounted
        if config.tls_mode == "self-managed":
            self.shared: sharing.SharedTls | None = sharing.SharedTls(
                self.api,
                namespace=config.namespace,
                secret=config.tls_secret,
                webhook_configuration=config.webhook_configuration,
                timing=timing(config),
                dns_names=dns_names(config),
                clock=clock,
            )
            self.keeper = keeping.SelfManaged(self.tls, self.shared, config.check_interval_seconds)
        else:
            self.shared = None
            self.keeper = keeping.Mounted(
                self.tls, Path(config.cert_dir), config.check_interval_seconds
            )
        self._runner: web.AppRunner | None = None
        self.port = 0

    def __repr__(self) -> str:
        return f"Webhook({self.settings.tls_mode}, port={self.port})"

    @property
    def ready(self) -> bool:
        return self.tls.loaded is not None and self.version.current is not None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app[WEBHOOK_KEY] = self
        app.router.add_post("/mutate", _mutate)
        app.router.add_get("/healthz", _healthz)
        app.router.add_get("/readyz", _readyz)
        return app

    async def start(self) -> None:
        await self.api.__aenter__()
        try:
            await self.version.start()
            await self.keeper.start()
            self._runner = web.AppRunner(self.app(), handle_signals=False, shutdown_timeout=5.0)
            await self._runner.setup()
            site = web.TCPSite(
                self._runner,
                self.settings.listen_host,
                self.settings.port,
                ssl_context=self.tls.context,
            )
            await site.start()
            sockets = getattr(site._server, "sockets", None) or ()
            self.port = sockets[0].getsockname()[1] if sockets else self.settings.port
        except BaseException:
            await self.stop()
            raise
        logger.info(
            "webhook serving HTTPS on %s:%d (%s)",
            self.settings.listen_host,
            self.port,
            self.settings.tls_mode,
        )

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        await self.keeper.stop()
        await self.version.stop()
        await self.api.__aexit__()
        with contextlib.suppress(OSError):
            self.tls.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Webhook]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()


async def _mutate(request: web.Request) -> web.Response:
    webhook = request.app[WEBHOOK_KEY]
    try:
        review = await webhook.mutator.admit(await request.read())
    except reviews.NotAReview as e:
        return web.json_response({"message": str(e)}, status=400)
    return web.json_response(review, dumps=_dumps)


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _readyz(request: web.Request) -> web.Response:
    webhook = request.app[WEBHOOK_KEY]
    if webhook.ready:
        return web.Response(text="ready")
    return web.Response(status=503, text="not ready: no certificate or Kubernetes version yet")
