"""``strongroom-controlplane``: one control-plane replica on the Kubernetes storage.

Composition: ``KubernetesStorage`` (sealed records in the control plane's namespace), the root
keyring in a Secret (created on first start if absent, never deleted), the sealing key pair in a
Secret (created on first start, kept), ``TokenReviewAuthenticator``, and an audit store: the
SQLite collector (``--audit-db PATH``, exactly one replica, on a volume) or forwarding to that
collector (``--audit-url``, every other replica). Replicas are stateless apart from caches and
share everything through the Kubernetes API (docs/operations.md, "Replicas and the audit
collector").

Serves HTTPS on 8443 with ``--tls-cert-file``/``--tls-key-file`` (re-read when they change, so a
renewed certificate needs no restart); plain HTTP only with ``--insecure-dev``. Every flag has
an environment variable (``STRONGROOM_CONTROLPLANE_<FLAG>``), handy in a Deployment.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import ssl
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from strongroom_core.sealing import rootkeys
from strongroom_core.storage import errors as storage_errors
from strongroom_core.storage import sqlite
from strongroom_kube import config
from strongroom_operator.controlplane import (
    auditforwarding,
    keyservice,
    server,
    state,
    tokenreview,
)
from strongroom_operator.kubestore import connecting, sealingkeys, storage
from strongroom_operator.kubestore import rootkeys as kuberootkeys

logger = logging.getLogger("strongroom.controlplane")

ENV_PREFIX = "STRONGROOM_CONTROLPLANE_"
DEFAULT_PORT = 8443
CERT_POLL_SECONDS = 60.0


class StartupError(Exception):
    """The replica cannot start as configured; the message names the flag."""


@dataclasses.dataclass(frozen=True)
class Options:
    host: str = "0.0.0.0"  # a server in a pod listens on its pod IP
    port: int = DEFAULT_PORT
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    insecure_dev: bool = False
    """Serve plain HTTP: only for a laptop or a test, never in a cluster."""
    namespace: str | None = None
    """The control plane's namespace (records, root and sealing keys); default: the pod's."""
    kubeconfig: Path | None = None
    audit_db: Path | None = None
    audit_url: str | None = None
    audit_token_file: Path | None = None
    audit_ca_file: Path | None = None
    root_keys_secret: str = kuberootkeys.DEFAULT_NAME
    sealing_key_secret: str = sealingkeys.DEFAULT_NAME
    review: tokenreview.ReviewSettings = dataclasses.field(
        default_factory=tokenreview.ReviewSettings
    )

    def check(self) -> None:
        if not self.insecure_dev and not (self.tls_cert_file and self.tls_key_file):
            raise StartupError(
                "--tls-cert-file and --tls-key-file are required (or --insecure-dev for plain"
                " HTTP on a laptop)"
            )
        if (self.audit_db is None) == (self.audit_url is None):
            raise StartupError(
                "give exactly one of --audit-db PATH (this replica is the audit collector) or"
                " --audit-url URL (forward audit to the collector)"
            )
        if self.audit_url is not None and self.audit_token_file is None:
            raise StartupError(
                "--audit-url needs --audit-token-file (a projected token with audience"
                " strongroom that the collector accepts as admin)"
            )


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENV_PREFIX + name.upper().replace("-", "_"), default)


def _env_list(name: str) -> list[str]:
    value = _env(name) or ""
    return [v.strip() for v in value.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="strongroom-controlplane",
        description="Serve the Strongroom control plane on the Kubernetes storage.",
    )
    path = Path
    p.add_argument("--host", default=_env("host", "0.0.0.0"))
    p.add_argument("--port", type=int, default=int(_env("port", str(DEFAULT_PORT)) or 0))
    p.add_argument("--tls-cert-file", type=path, default=_env("tls-cert-file"))
    p.add_argument("--tls-key-file", type=path, default=_env("tls-key-file"))
    p.add_argument(
        "--insecure-dev",
        action="store_true",
        default=_env("insecure-dev") == "true",
        help="serve plain HTTP (a laptop or a test only)",
    )
    p.add_argument("--namespace", default=_env("namespace"), help="the control plane's namespace")
    p.add_argument("--kubeconfig", type=path, default=_env("kubeconfig"))
    p.add_argument("--audit-db", type=path, default=_env("audit-db"), help="SQLite collector file")
    p.add_argument("--audit-url", default=_env("audit-url"), help="the audit collector's URL")
    p.add_argument("--audit-token-file", type=path, default=_env("audit-token-file"))
    p.add_argument("--audit-ca-file", type=path, default=_env("audit-ca-file"))
    p.add_argument(
        "--root-keys-secret", default=_env("root-keys-secret", kuberootkeys.DEFAULT_NAME)
    )
    p.add_argument(
        "--sealing-key-secret", default=_env("sealing-key-secret", sealingkeys.DEFAULT_NAME)
    )
    p.add_argument(
        "--sidecar-image",
        action="append",
        default=_env_list("sidecar-images"),
        help="an image the injected sidecar may run (repeat; empty accepts any)",
    )
    p.add_argument("--admin-user", action="append", default=_env_list("admin-users"))
    p.add_argument("--admin-group", action="append", default=_env_list("admin-groups"))
    p.add_argument(
        "--review-cache-seconds", type=float, default=float(_env("review-cache-seconds", "30") or 0)
    )
    return p


def parse(argv: Sequence[str] | None = None) -> Options:
    args = build_parser().parse_args(argv)
    options = Options(
        host=args.host,
        port=args.port,
        tls_cert_file=args.tls_cert_file,
        tls_key_file=args.tls_key_file,
        insecure_dev=args.insecure_dev,
        namespace=args.namespace,
        kubeconfig=args.kubeconfig,
        audit_db=args.audit_db,
        audit_url=args.audit_url,
        audit_token_file=args.audit_token_file,
        audit_ca_file=args.audit_ca_file,
        root_keys_secret=args.root_keys_secret,
        sealing_key_secret=args.sealing_key_secret,
        review=tokenreview.ReviewSettings(
            sidecar_images=tuple(args.sidecar_image),
            admin_users=frozenset(args.admin_user),
            admin_groups=frozenset(args.admin_group),
            cache_ttl=args.review_cache_seconds,
        ),
    )
    options.check()
    return options


@dataclasses.dataclass
class Running:
    control_plane: state.ControlPlane
    port: int
    url: str


class ServingCertificates:
    """The serving context, reloaded when the certificate or key file changes."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.cert, self.key = cert, key
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._stamp = self._mtimes()
        self.context.load_cert_chain(cert, key)

    def _mtimes(self) -> tuple[tuple[int, int, int], ...]:
        # Inode too: a Secret volume swaps a symlink to new files on renewal.
        stats = (self.cert.stat(), self.key.stat())
        return tuple((s.st_mtime_ns, s.st_ino, s.st_size) for s in stats)

    async def watch(self, interval: float = CERT_POLL_SECONDS) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                stamp = self._mtimes()
                if stamp != self._stamp:
                    self.context.load_cert_chain(self.cert, self.key)
                    self._stamp = stamp
                    logger.info("serving certificate reloaded from %s", self.cert)
            except (OSError, ssl.SSLError) as e:
                logger.error("cannot reload the serving certificate: %s", type(e).__name__)


async def _root_keys(store: kuberootkeys.KubernetesRootKeyStore) -> None:
    """Create the root keyring on first start; a replica that loses the race loads it."""
    for _ in range(3):
        try:
            await rootkeys.load_or_create(store)
            return
        except storage_errors.ConflictError:
            continue
    await store.load()


@contextlib.asynccontextmanager
async def running(options: Options) -> AsyncIterator[Running]:
    """One replica, serving until the context exits."""
    options.check()
    async with contextlib.AsyncExitStack() as stack:
        audit: storage.AuditStore
        if options.audit_db is not None:
            collector = sqlite.SqliteStorage(options.audit_db)
            await stack.enter_async_context(collector)
            audit = collector
        else:
            assert options.audit_url is not None
            assert options.audit_token_file is not None
            forwarder = auditforwarding.ForwardingAuditStore(
                options.audit_url, options.audit_token_file, ca_file=options.audit_ca_file
            )
            stack.push_async_callback(forwarder.close)
            audit = forwarder
        try:
            kube_storage = await connecting.open_storage(
                namespace=options.namespace, kubeconfig=options.kubeconfig, audit=audit
            )
        except config.ConfigError as e:
            raise StartupError(f"--namespace/--kubeconfig: {e}") from None
        stack.push_async_callback(kube_storage.close)
        namespace = kube_storage.namespace
        root_store = kuberootkeys.KubernetesRootKeyStore(
            kube_storage.kube, namespace, options.root_keys_secret
        )
        await _root_keys(root_store)
        sealing_key = await sealingkeys.KubernetesSealingKeyStore(
            kube_storage.kube, namespace, options.sealing_key_secret
        ).load_or_create()
        authenticator = tokenreview.TokenReviewAuthenticator(
            kube_storage.kube, options.review, audit=kube_storage
        )
        cp = server.ControlPlane(
            kube_storage,
            keyservice.KeyService(kube_storage, root_store),
            sealing_key,
            authenticator,
        )
        context = None
        if not options.insecure_dev:
            assert options.tls_cert_file is not None
            assert options.tls_key_file is not None
            certificates = ServingCertificates(options.tls_cert_file, options.tls_key_file)
            context = certificates.context
            reloader = asyncio.create_task(certificates.watch())
            stack.push_async_callback(_cancel, reloader)
        runner, port = await server.start(cp, options.host, options.port, ssl_context=context)
        stack.push_async_callback(runner.cleanup)
        scheme = "http" if context is None else "https"
        host = "127.0.0.1" if options.host in ("0.0.0.0", "") else options.host
        url = f"{scheme}://{host}:{port}"
        logger.info(
            "control plane serving %s (namespace %s, audit %s)",
            url,
            namespace,
            "collector" if options.audit_db else "forwarded",
        )
        yield Running(cp, port, url)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.wait([task])


async def serve(options: Options) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with running(options):
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        options = parse(argv)
        asyncio.run(serve(options))
    except (StartupError, config.ConfigError) as e:
        print(f"strongroom-controlplane: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
