"""Admission latency of the webhook for a typical pod, in process.

A typical pod: two app containers (one with a few variables), one init container, one volume,
the inject and app annotations. Three measurements, each over ``--requests`` admissions after a
warm-up:

- ``pipeline``: ``Mutator.admit`` (parse, checks, patch, encoded response) with the App from a
  table — the webhook's own work;
- ``admission`` (the headline ``p50_ms``/``p99_ms``): the same with the App read from the
  Kubernetes API as in a cluster, here the project's emulator (tests/kube) on loopback HTTP;
- ``https``: a full ``POST /mutate`` through the webhook server (self-managed TLS, keep-alive
  client trusting the published caBundle), App read from the emulator.

Run from the repository root: ``python bench/webhook.py [--requests N] [--json]``; with
``--json`` the last line is one JSON object with ``p50_ms`` and ``p99_ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from strongroom_kube import client
from strongroom_kube import config as clusterconfig
from strongroom_webhook import apps, mutating, server, settings
from tests.kube import emulator

NAMESPACE = "shop"


def typical_review() -> bytes:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "web-7d9f-",
            "namespace": NAMESPACE,
            "labels": {"app": "web", "pod-template-hash": "7d9f"},
            "annotations": {"strongroom.dev/inject": "true", "strongroom.dev/app": "shop"},
        },
        "spec": {
            "serviceAccountName": "shop",
            "initContainers": [{"name": "migrate", "image": "example/migrate:1"}],
            "containers": [
                {
                    "name": "web",
                    "image": "example/web:1",
                    "ports": [{"containerPort": 8080}],
                    "env": [{"name": f"VAR_{i}", "value": str(i)} for i in range(5)],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                },
                {"name": "worker", "image": "example/worker:1"},
            ],
            "volumes": [{"name": "data", "emptyDir": {}}],
        },
    }
    return json.dumps(
        {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "0d9c8b9e-bench",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "resource": {"group": "", "version": "v1", "resource": "pods"},
                "namespace": NAMESPACE,
                "operation": "CREATE",
                "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
                "object": pod,
            },
        }
    ).encode()


async def timed(call: Callable[[], Awaitable[Any]], requests: int) -> list[float]:
    for _ in range(min(200, requests)):
        await call()
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
    }


async def run(requests: int) -> dict[str, Any]:
    body = typical_review()
    config = settings.WebhookSettings(
        namespace="strongroom-system", listen_host="127.0.0.1", port=0
    )

    async def check(answer: Any) -> None:
        assert answer["response"]["allowed"], answer

    table = mutating.Mutator(
        config, apps.StaticApps({(NAMESPACE, "shop"): ("shop",)}), lambda: (1, 31)
    )

    async def pipeline() -> None:
        await check(await table.admit(body))

    results: dict[str, Any] = {"requests": requests}
    results["pipeline"] = summary(await timed(pipeline, requests))

    async with emulator.KubeEmulator.start() as kube:
        kube.create_namespace(NAMESPACE, {"strongroom.dev/injection": "enabled"})
        kube.create(
            {
                "apiVersion": "strongroom.dev/v1alpha1",
                "kind": "App",
                "metadata": {"name": "shop", "namespace": NAMESPACE},
                "spec": {"serviceAccounts": ["shop"]},
            }
        )
        cluster = clusterconfig.ClusterConfig(kube.url, token=kube.admin_token)
        async with client.KubeClient(cluster) as api:
            live = mutating.Mutator(config, apps.KubeApps(api), lambda: (1, 31))

            async def admission() -> None:
                await check(await live.admit(body))

            results["admission"] = summary(await timed(admission, requests))

        async with server.Webhook(config, cluster=cluster).running() as webhook:
            assert webhook.shared is not None
            state = await webhook.shared.sync()
            context = ssl.create_default_context(cadata=state.bundle.decode())
            url = f"https://127.0.0.1:{webhook.port}/mutate"
            host = server.dns_names(config)[0]
            async with aiohttp.ClientSession() as session:

                async def https() -> None:
                    async with session.post(
                        url, data=body, ssl=context, server_hostname=host
                    ) as response:
                        await check(await response.json())

                results["https"] = summary(await timed(https, requests))
    results.update(results["admission"])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args()
    results = asyncio.run(run(args.requests))
    for name in ("pipeline", "admission", "https"):
        numbers = results[name]
        print(f"{name:>10}: p50 {numbers['p50_ms']:.3f} ms  p99 {numbers['p99_ms']:.3f} ms")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
