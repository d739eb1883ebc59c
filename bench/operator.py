"""Benchmark: the kopf operator against the project's Kubernetes API emulator (issue 4).

1. ``--grants`` (1,000) Grants across ``--apps`` (50) Apps, each App with one managed-secret
   Provider, every Grant carrying a value sealed client-side, all created at once: seconds from
   the first create until every Grant's ``status.state`` is ``Ready``, and the operator's peak
   RSS (``VmHWM`` of its process; it runs as ``strongroom-operator`` in a subprocess, standalone).
2. One changed Grant (its ``spec.restrictions`` toggled): seconds from the change until the
   control plane's watch stream — what a connected sidecar consumes — delivers the App's new
   policy carrying it. The control plane runs in this process on the Kubernetes storage;
   median of ``--changes`` (5) changes.

The emulator and the control plane share this process (the emulator is the project's test
fixture); the operator is alone in its own. ``--json`` prints one JSON object as the last line:
``all_ready_s``, ``peak_rss_mib``, ``policy_propagation_s`` (and the details).
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# This file is named like the standard library's ``operator``: never let it shadow it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402

from strongroom_core.sealing import bindings, credentials, publickey, rootkeys  # noqa: E402
from strongroom_kube import client, config  # noqa: E402
from strongroom_operator.controlplane import auth, keyservice, server, settings  # noqa: E402
from strongroom_operator.kubestore import rootkeys as kuberootkeys  # noqa: E402
from strongroom_operator.kubestore import sealingkeys, storage  # noqa: E402
from tests.kube import emulator  # noqa: E402

NAMESPACE = emulator.CONTROL_PLANE_NAMESPACE
TEAM = "bench"
OPERATOR = ROOT / ".venv" / "bin" / "strongroom-operator"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def resource(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "strongroom.dev/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": TEAM},
        "spec": spec,
    }


def grant_name(app: int, index: int) -> str:
    return f"app-{app}-grant-{index}"


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ready_count(kube: emulator.KubeEmulator) -> int:
    return sum(
        1
        for g in kube.list("grants.strongroom.dev", TEAM)
        if (g.get("status") or {}).get("state") == "Ready"
    )


async def until(condition: Any, timeout: float, interval: float = 0.05) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"not done after {timeout} s")
        await asyncio.sleep(interval)
    return time.perf_counter() - start


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with emulator.KubeEmulator.start(history=200_000, bookmark_interval=5) as kube:
        kube.create_namespace(TEAM)
        cluster = config.ClusterConfig(server=kube.url, token=kube.admin_token)
        kstore = storage.KubernetesStorage(client.KubeClient(cluster), NAMESPACE)
        await kstore.open()
        try:
            sealing_key = await sealingkeys.KubernetesSealingKeyStore(
                kstore.kube, NAMESPACE
            ).load_or_create()
            per_app = args.grants // args.apps
            log(f"sealing {per_app * args.apps} values")
            values = {
                grant_name(a, i): publickey.seal_to_public_key(
                    sealing_key.public_pem(),
                    credentials.encode_credential({"token": secrets.token_urlsafe(24)}),
                    bindings.ClientSealBinding(TEAM, grant_name(a, i), f"provider-{a}"),
                )
                for a in range(args.apps)
                for i in range(per_app)
            }
            operator = subprocess.Popen(
                [
                    str(OPERATOR),
                    "--namespace",
                    NAMESPACE,
                    "--kubeconfig",
                    str(kube.kubeconfig),
                    "--standalone",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL if not args.verbose else None,
                start_new_session=True,
            )
            try:
                return await measure(args, kube, kstore, values, operator.pid)
            finally:
                operator.send_signal(signal.SIGTERM)
                try:
                    operator.wait(15)
                except subprocess.TimeoutExpired:
                    operator.kill()
                    operator.wait()
        finally:
            await kstore.close()


async def measure(
    args: argparse.Namespace,
    kube: emulator.KubeEmulator,
    kstore: storage.KubernetesStorage,
    values: dict[str, str],
    pid: int,
) -> dict[str, Any]:
    # The operator is live once it made a probe App Ready (startup, login, watches).
    kube.create(resource("App", "probe", {"serviceAccounts": ["probe"]}))

    def probe_ready() -> bool:
        found = kube.get("apps.strongroom.dev", "probe", TEAM) or {}
        return bool((found.get("status") or {}).get("conditions"))

    await until(probe_ready, 60)
    baseline = peak_rss_mib(pid)
    log(f"operator ready (peak RSS so far {baseline:.1f} MiB); creating {len(values)} Grants")
    requests_before = len(kube.requests)
    start = time.perf_counter()
    for a in range(args.apps):
        kube.create(resource("App", f"app-{a}", {"serviceAccounts": [f"sa-{a}"]}))
        kube.create(
            resource(
                "Provider",
                f"provider-{a}",
                {"appRef": f"app-{a}", "type": "secret", "allowedHosts": ["api.example.com"]},
            )
        )
    for name, value in values.items():
        app = name.split("-grant-")[0]
        kube.create(
            resource(
                "Grant",
                name,
                {
                    "appRef": app,
                    "providerRef": app.replace("app-", "provider-"),
                    "principal": {"kind": "system", "id": name},
                    "credential": {"sealedValue": value},
                },
            )
        )
    created = time.perf_counter() - start
    log(f"created in {created:.2f} s; waiting for Ready")
    last = -1
    while (count := ready_count(kube)) < len(values):
        if time.perf_counter() - start > args.timeout:
            raise TimeoutError(f"{count}/{len(values)} Ready after {args.timeout} s")
        if count != last and count % 100 < 10:
            log(f"{count} Ready after {time.perf_counter() - start:.1f} s")
        last = count
        await asyncio.sleep(0.1)
    all_ready = time.perf_counter() - start
    requests = len(kube.requests) - requests_before
    rss = peak_rss_mib(pid)
    log(f"all {len(values)} Ready after {all_ready:.2f} s; operator peak RSS {rss:.1f} MiB")
    propagation = await propagation_times(args, kube, kstore)
    return {
        "all_ready_s": round(all_ready, 3),
        "peak_rss_mib": round(rss, 1),
        "policy_propagation_s": round(statistics.median(propagation), 3),
        "policy_propagation_samples_s": [round(p, 3) for p in propagation],
        "grants": len(values),
        "apps": args.apps,
        "create_s": round(created, 3),
        "idle_rss_mib": round(baseline, 1),
        "api_requests_per_grant": round(requests / len(values), 1),
    }


async def propagation_times(
    args: argparse.Namespace, kube: emulator.KubeEmulator, kstore: storage.KubernetesStorage
) -> list[float]:
    roots = kuberootkeys.KubernetesRootKeyStore(kstore.kube, NAMESPACE)
    await rootkeys.load_or_create(roots)
    token = secrets.token_urlsafe(32)
    sealing_key = await sealingkeys.KubernetesSealingKeyStore(kstore.kube, NAMESPACE).load()
    assert sealing_key is not None
    control_plane = server.ControlPlane(
        kstore,
        keyservice.KeyService(kstore, roots),
        sealing_key,
        auth.StaticTokenAuthenticator({token: auth.Caller("sidecar", "bench", TEAM, "app-0")}),
        settings.ControlPlaneSettings(heartbeat_seconds=1.0, shutdown_timeout=1.0),
    )
    runner, port = await server.start(control_plane, "127.0.0.1", 0)
    samples: list[float] = []
    name = grant_name(0, 0)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"http://127.0.0.1:{port}/v1/apps/{TEAM}/app-0/watch",
                headers={"Authorization": f"Bearer {token}"},
                timeout=aiohttp.ClientTimeout(total=None, sock_read=30),
            ) as response,
        ):
            if response.status != 200:
                raise RuntimeError(f"watch answered {response.status}")
            while (await next_event(response))["type"] != "SYNCED":
                pass
            for change in range(args.changes):
                methods = ["GET"] if change % 2 == 0 else ["GET", "POST"]
                started = time.perf_counter()
                kube.patch(
                    "grants.strongroom.dev",
                    name,
                    {"spec": {"restrictions": {"methods": methods}}},
                    TEAM,
                )
                while True:
                    event = await next_event(response)
                    grant = (event.get("policy") or {}).get("grants", {}).get(name, {})
                    if event["type"] == "POLICY" and _methods(grant) == methods:
                        break
                samples.append(time.perf_counter() - started)
                log(f"change {change + 1}: policy on the watch after {samples[-1]:.3f} s")
                await asyncio.sleep(0.3)
    finally:
        await runner.cleanup()
    return samples


def _methods(grant: dict[str, Any]) -> list[str] | None:
    restrictions = grant.get("restrictions") or {}
    methods = restrictions.get("methods")
    return list(methods) if isinstance(methods, list) else None


async def next_event(response: aiohttp.ClientResponse) -> dict[str, Any]:
    line = await asyncio.wait_for(response.content.readline(), 30)
    if not line:
        raise RuntimeError("the watch stream ended")
    event: dict[str, Any] = json.loads(line)
    return event


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--grants", type=int, default=1000)
    parser.add_argument("--apps", type=int, default=50)
    parser.add_argument("--changes", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="show the operator's log")
    args = parser.parse_args()
    if not OPERATOR.exists():
        sys.exit(f"{OPERATOR} is missing: `.venv/bin/pip install -e operator`")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    result = asyncio.run(run(args))
    for key, value in result.items():
        print(f"{key}: {value}")
    if args.json:
        print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
