"""The ``key.rotated`` audit event of `strongroom rotate`, written where the CLI can reach an
audit store.

- dev mode: the state folder's SQLite database, the same store `strongroom dev` writes to;
- a cluster: the Kubernetes storage keeps no audit (one event per use would swamp etcd), so the
  event goes to the control plane's ``POST /v1/audit`` (``--server`` and an admin
  ``--token-file``, the same as `strongroom audit query`), which stores it in the collector.
  Without ``--server`` the rotation still runs, and stderr says it was not audited and how to
  make it so: a rotation must not fail because audit is out of reach, but nobody should believe
  it was recorded.

The event carries key ids and counts only, never key material.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

from strongroom_cli import keytargets, public_keys
from strongroom_core import audit


class AuditError(Exception):
    """The event could not be written; the message says where and why (never the token)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "audit on a cluster (dev mode writes to its own store)",
    )
    group.add_argument("--server", help="control-plane URL that records the key.rotated event")
    group.add_argument("--token-file", type=Path, help="file holding an admin token")
    group.add_argument("--ca-file", type=Path, help="CA bundle of the control plane")


def event(namespace: str, app: str, reason: str) -> audit.AuditEvent:
    return audit.lifecycle_event(
        "key.rotated",
        namespace=namespace,
        app=app,
        caller=f"cli/{_user()}",
        status=200,
        decision="allow",
        reason=reason,
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container)
        return "unknown"


async def record(
    target: keytargets.KeyTarget, args: argparse.Namespace, rotated: audit.AuditEvent
) -> str:
    """Write the event; what was done, for stderr."""
    if not target.cluster:
        await target.storage.append_audit([dict(rotated)])
        return f"audited: key.rotated in {target.description}"
    if not args.server:
        return (
            "not audited: pass --server URL --token-file FILE (an admin token) to record the"
            " key.rotated event at the control plane"
        )
    if args.token_file is None:
        raise AuditError("--token-file: required with --server (an admin token)")
    try:
        token = args.token_file.read_text().strip()
    except OSError as e:
        raise AuditError(f"--token-file {args.token_file}: cannot read: {e.strerror}") from None
    await asyncio.to_thread(_post, args.server, token, rotated, args.ca_file)
    return f"audited: key.rotated at {args.server}"


def _post(server: str, token: str, rotated: audit.AuditEvent, ca_file: Path | None) -> None:
    url = server.rstrip("/") + "/v1/audit"
    if not url.startswith(("https://", "http://")):
        raise AuditError(f"--server {server}: expected an http(s) URL")
    try:
        context = public_keys.tls_context(ca_file)
    except public_keys.PublicKeyError as e:
        raise AuditError(str(e)) from None
    request = urllib.request.Request(  # noqa: S310 (scheme checked)
        url,
        data=json.dumps({"events": [rotated]}).encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json",
            # Both: through the API server's service proxy Authorization is the proxy's.
            "Authorization": f"Bearer {token}",
            "Strongroom-Authorization": f"Bearer {token}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30, context=context):  # noqa: S310
            pass
    except urllib.error.HTTPError as e:
        raise AuditError(f"{server}: HTTP {e.code} recording key.rotated: {_detail(e)}") from None
    except (urllib.error.URLError, OSError) as e:
        raise AuditError(f"{server}: cannot connect to record key.rotated ({e})") from None


def _detail(error: urllib.error.HTTPError) -> str:
    try:
        document = json.load(error)
    except ValueError:
        return str(error.reason)
    return str(document.get("detail") or error.reason) if isinstance(document, dict) else ""


def warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
