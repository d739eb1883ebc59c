"""The control plane for bench/proxy.py, in its own process: SQLite storage in a temp folder, the
real control plane and reconcile logic, composed like ``strongroom dev`` (see
cli/strongroom_cli/devmode/environment.py) but without the in-process sidecar and echo upstream,
so the sidecar can run (and be measured) in a process of its own.

It reconciles one App (``bench``), one Provider (``upstream``, allowed host
``127.0.0.1:<upstream port>``, bearer injection) and ``--grants`` system Grants
(``bench-0000``, ...), each with a freshly generated credential sealed exactly as ``strongroom
seal`` seals. Then it writes ``<dir>/controlplane.json`` (URL and the file holding the sidecar's
bearer token) and serves until SIGTERM/SIGINT. Audit events posted by the sidecar land in its
SQLite database as usual.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
from pathlib import Path

from strongroom_cli.devmode import environment, folder
from strongroom_core.sealing import publickey, rootkeys
from strongroom_core.storage import sqlite
from strongroom_operator.controlplane import auth, keyservice, server
from strongroom_operator.reconcile import batch, context

NAMESPACE = "default"
APP = "bench"
PROVIDER = "upstream"
CALLER = "bench/sidecar"


def grant_name(index: int) -> str:
    return f"bench-{index:04d}"


def resources_yaml(upstream_port: int, grants: int) -> str:
    documents = [
        f"""apiVersion: strongroom.dev/v1alpha1
kind: App
metadata: {{name: {APP}, namespace: {NAMESPACE}}}
spec: {{serviceAccounts: [bench]}}""",
        f"""apiVersion: strongroom.dev/v1alpha1
kind: Provider
metadata:
  name: {PROVIDER}
  namespace: {NAMESPACE}
  annotations: {{"{environment.ECHO_ANNOTATION}": "true"}}
spec:
  appRef: {APP}
  type: secret
  allowedHosts: ["127.0.0.1:{upstream_port}"]
  injections: [{{type: bearer}}]""",
    ]
    documents.extend(
        f"""apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {{name: {grant_name(i)}, namespace: {NAMESPACE}}}
spec: {{appRef: {APP}, providerRef: {PROVIDER}, principal: {{kind: system, id: job-{i}}}}}"""
        for i in range(grants)
    )
    return "\n---\n".join(documents) + "\n"


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


async def serve(workdir: Path, upstream_port: int, grants: int) -> None:
    resources = workdir / "resources"
    resources.mkdir(exist_ok=True)
    (resources / "bench.yaml").write_text(resources_yaml(upstream_port, grants))
    loaded = folder.load(resources)
    if loaded.problems:
        raise SystemExit("bench resources did not load: " + "; ".join(loaded.problems))

    storage = sqlite.SqliteStorage(workdir / "strongroom.sqlite3")
    await storage.open()
    try:
        root_store = rootkeys.FileRootKeyStore(workdir / "root-keys.json")
        await rootkeys.load_or_create(root_store)
        sealing_key = publickey.SealingKey.generate()
        keys = keyservice.KeyService(storage, root_store)
        ctx = context.ReconcileContext(storage=storage, key_service=keys, sealing_key=sealing_key)
        credential = secrets.token_urlsafe(32)
        report = await batch.reconcile_all(
            ctx, environment.with_echo_credentials(loaded.resources, sealing_key, credential)
        )
        failed = {ref: o for ref, o in report.items() if not o.ok}
        if failed:
            raise SystemExit(f"bench resources did not reconcile: {failed}")

        token = secrets.token_urlsafe(32)
        token_file = workdir / "sidecar-token"
        _write_private(token_file, token + "\n")
        authenticator = auth.StaticTokenAuthenticator(
            {token: auth.Caller("sidecar", CALLER, NAMESPACE, APP)}
        )
        control_plane = server.ControlPlane(storage, keys, sealing_key, authenticator)
        runner, port = await server.start(control_plane, "127.0.0.1", 0)
        try:
            info = {"url": f"http://127.0.0.1:{port}", "token_file": str(token_file)}
            (workdir / "controlplane.json.tmp").write_text(json.dumps(info))
            (workdir / "controlplane.json.tmp").rename(workdir / "controlplane.json")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            await stop.wait()
        finally:
            await runner.cleanup()
    finally:
        await storage.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True, help="temp folder for state")
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--grants", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(serve(args.dir, args.upstream_port, args.grants))


if __name__ == "__main__":
    main()
