"""``strongroom-operator``: the kopf operator, cluster-wide.

Several replicas: kopf peering (default name ``strongroom``, a ``ClusterKopfPeering`` the chart
installs with kopf's peering CRDs): only the replica with the highest ``--priority`` acts, the
others pause and take over when it disappears. ``--standalone`` runs without peering, for
exactly one replica.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import kopf

from strongroom_core import podspec
from strongroom_operator.kopfhandlers import cabundles, settings, wiring

PRIORITY_ENV = "STRONGROOM_OPERATOR_PRIORITY"
DEFAULT_CA_SOURCE = f"configmap/{podspec.CA_CONFIGMAP_NAME}"
"""The chart publishes the CA as this ConfigMap in its own namespace (generated and secret
TLS modes); in cert-manager mode it passes ``secret/strongroom-controlplane-tls``."""


def parse_args(argv: Sequence[str] | None = None) -> tuple[settings.OperatorSettings, bool]:
    parser = argparse.ArgumentParser(prog="strongroom-operator", description=__doc__)
    parser.add_argument(
        "--namespace",
        default=os.environ.get("STRONGROOM_NAMESPACE") or os.environ.get("POD_NAMESPACE"),
        help="the control plane's namespace (env STRONGROOM_NAMESPACE or POD_NAMESPACE)",
    )
    parser.add_argument("--kubeconfig", type=Path, default=None)
    parser.add_argument("--standalone", action="store_true", help="no peering: one replica")
    parser.add_argument("--peering", default="strongroom", help="kopf peering name")
    parser.add_argument(
        "--priority",
        type=int,
        default=None,
        help=f"peering priority; give each replica a different one (env {PRIORITY_ENV})",
    )
    parser.add_argument("--grant-poll-seconds", type=float, default=30.0)
    parser.add_argument("--retry-delay", type=float, default=10.0)
    parser.add_argument(
        "--allow-loopback-http",
        action="store_true",
        help="let https-only URLs point at loopback (development and tests only)",
    )
    parser.add_argument(
        "--liveness",
        default=os.environ.get("STRONGROOM_OPERATOR_LIVENESS") or None,
        metavar="URL",
        help="serve kopf's health endpoint, e.g. http://0.0.0.0:8080/healthz (env"
        " STRONGROOM_OPERATOR_LIVENESS); default: none",
    )
    parser.add_argument(
        "--ca-bundle-source",
        default=os.environ.get("STRONGROOM_CA_BUNDLE_SOURCE", DEFAULT_CA_SOURCE),
        metavar="KIND/NAME",
        help="where the control plane's CA (key ca.crt) is, in --namespace: configmap/NAME or"
        f" secret/NAME (default {DEFAULT_CA_SOURCE}); empty: publish no CA ConfigMaps",
    )
    parser.add_argument(
        "--ca-configmap",
        default=podspec.CA_CONFIGMAP_NAME,
        help="name of the CA ConfigMap published into every namespace with an App"
        f" (default {podspec.CA_CONFIGMAP_NAME})",
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if not args.namespace:
        parser.error("--namespace (or STRONGROOM_NAMESPACE) is required: the control plane's")
    priority = args.priority if args.priority is not None else _priority_from_env(parser)
    try:
        ca_source = cabundles.parse_source(args.ca_bundle_source, args.namespace)
    except ValueError as e:
        parser.error(f"--ca-bundle-source: {e}")
    return settings.OperatorSettings(
        namespace=args.namespace,
        kubeconfig=args.kubeconfig,
        peering=None if args.standalone else args.peering,
        priority=priority,
        grant_poll_seconds=args.grant_poll_seconds,
        retry_delay=args.retry_delay,
        allow_loopback_http=args.allow_loopback_http,
        liveness_endpoint=args.liveness,
        ca_source=ca_source,
        ca_configmap=args.ca_configmap,
    ), args.verbose


def _priority_from_env(parser: argparse.ArgumentParser) -> int:
    """``STRONGROOM_OPERATOR_PRIORITY`` unset or empty is 0: the chart sets it from the pod's
    ``apps.kubernetes.io/pod-index`` label, which a pod of an older StatefulSet controller
    lacks (the downward API then gives an empty string)."""
    raw = os.environ.get(PRIORITY_ENV, "").strip()
    if not raw:
        return 0
    try:
        return int(raw)
    except ValueError:
        parser.error(f"{PRIORITY_ENV}={raw!r}: expected an integer (the pod index), or unset")


def kopf_options(config: settings.OperatorSettings) -> dict[str, Any]:
    """``kopf.operator`` keywords for these settings (besides registry and clusterwide)."""
    return {
        "standalone": config.peering is None,
        "peering_name": config.peering,
        "priority": config.priority,
        "liveness_endpoint": config.liveness_endpoint,
    }


async def run(config: settings.OperatorSettings) -> None:
    registry = wiring.build_registry(config)
    if config.kubeconfig is not None:
        os.environ["KUBECONFIG"] = str(config.kubeconfig)
    kopf.on.login(registry=registry)(_login)
    await kopf.operator(registry=registry, clusterwide=True, **kopf_options(config))


def _login(**kwargs: object) -> kopf.ConnectionInfo | None:
    """Kubeconfig when ``$KUBECONFIG`` is set, the pod's ServiceAccount otherwise."""
    if os.environ.get("KUBECONFIG"):
        return kopf.login_with_kubeconfig(**kwargs)  # type: ignore[arg-type]
    return kopf.login_with_service_account(**kwargs)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> None:
    config, verbose = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(run(config))
