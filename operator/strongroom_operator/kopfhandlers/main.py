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

import kopf

from strongroom_operator.kopfhandlers import settings, wiring


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
        default=int(os.environ.get("STRONGROOM_OPERATOR_PRIORITY", "0")),
        help="peering priority; give each replica a different one",
    )
    parser.add_argument("--grant-poll-seconds", type=float, default=30.0)
    parser.add_argument("--retry-delay", type=float, default=10.0)
    parser.add_argument(
        "--allow-loopback-http",
        action="store_true",
        help="let https-only URLs point at loopback (development and tests only)",
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if not args.namespace:
        parser.error("--namespace (or STRONGROOM_NAMESPACE) is required: the control plane's")
    return settings.OperatorSettings(
        namespace=args.namespace,
        kubeconfig=args.kubeconfig,
        peering=None if args.standalone else args.peering,
        priority=args.priority,
        grant_poll_seconds=args.grant_poll_seconds,
        retry_delay=args.retry_delay,
        allow_loopback_http=args.allow_loopback_http,
    ), args.verbose


async def run(config: settings.OperatorSettings) -> None:
    registry = wiring.build_registry(config)
    if config.kubeconfig is not None:
        os.environ["KUBECONFIG"] = str(config.kubeconfig)
    kopf.on.login(registry=registry)(_login)
    await kopf.operator(
        registry=registry,
        clusterwide=True,
        standalone=config.peering is None,
        peering_name=config.peering,
        priority=config.priority,
    )


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
