"""`strongroom audit query`: read the newest audit records from a control plane.

Without --server it reads the running dev mode's address and admin token from the state folder.
Against a cluster, point --server at the control plane (a port-forward or the API server's
service proxy) and pass a token with --token-file.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from strongroom_cli import devstate, public_keys


class AuditQueryError(Exception):
    """The query failed; the message says why and what to do (never the token)."""


def add_parser(audit_parsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = audit_parsers.add_parser("query", help="print the newest audit records")
    parser.add_argument("--server", help="control-plane URL (default: the running dev mode)")
    parser.add_argument("--token-file", type=Path, help="file holding an admin token")
    parser.add_argument(
        "--ca-file", type=Path, help="CA bundle to verify the control plane's certificate"
    )
    parser.add_argument("--state-dir", type=Path, default=devstate.DEFAULT_STATE_DIR)
    parser.add_argument("--limit", type=int, default=20, help="how many records (1-1000)")
    parser.add_argument("--namespace", help="only this namespace")
    parser.add_argument("--app", help="only this App")
    parser.add_argument("--grant", help="only this grant")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 1000:
        raise AuditQueryError(f"--limit {args.limit}: expected 1 to 1000")
    server, token = _target(args)
    query = {"limit": str(args.limit)}
    for name in ("namespace", "app", "grant"):
        if getattr(args, name):
            query[name] = getattr(args, name)
    events = fetch(server, token, query, ca_file=args.ca_file)
    for event in events:
        sys.stdout.write(json.dumps(event, sort_keys=True) + "\n" if args.json else _line(event))
    return 0


def fetch(
    server: str, token: str, query: dict[str, str], *, ca_file: Path | None = None
) -> list[dict[str, Any]]:
    url = server.rstrip("/") + "/v1/audit?" + urllib.parse.urlencode(query)
    if not url.startswith(("https://", "http://")):
        raise AuditQueryError(f"--server {server}: expected an http(s) URL")
    # Both headers: through the API server's service proxy (kubectl proxy) Authorization
    # carries the proxy's credentials, and the control plane reads Strongroom-Authorization.
    headers = {"Authorization": f"Bearer {token}", "Strongroom-Authorization": f"Bearer {token}"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (scheme checked)
    try:
        context = public_keys.tls_context(ca_file)
    except public_keys.PublicKeyError as e:
        raise AuditQueryError(str(e)) from None
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:  # noqa: S310 (scheme checked)
            document = json.load(response)
    except urllib.error.HTTPError as e:
        raise AuditQueryError(f"{server}: HTTP {e.code}: {_problem_detail(e)}") from None
    except (urllib.error.URLError, OSError) as e:
        raise AuditQueryError(f"{server}: cannot connect ({e}); is the control plane up?") from None
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list):
        raise AuditQueryError(f"{server}: answer has no events list")
    return events


def _target(args: argparse.Namespace) -> tuple[str, str]:
    state = devstate.DevState(args.state_dir)
    info = state.read_info() or {}
    server = args.server or info.get("controlPlane")
    if not server:
        raise AuditQueryError(
            f"no --server given and no running dev mode found in {args.state_dir}/dev.json"
        )
    token_file = args.token_file or (
        Path(info["adminTokenFile"]) if "adminTokenFile" in info else None
    )
    if token_file is None:
        raise AuditQueryError("--token-file: required with --server")
    try:
        return server, token_file.read_text().strip()
    except OSError as e:
        raise AuditQueryError(f"--token-file {token_file}: cannot read: {e.strerror}") from None


def _problem_detail(error: urllib.error.HTTPError) -> str:
    try:
        document = json.load(error)
    except ValueError:
        return error.reason
    if isinstance(document, dict):
        return str(document.get("detail") or document.get("title") or error.reason)
    return str(error.reason)


def _line(event: dict[str, Any]) -> str:
    fields = ("time", "decision", "status", "grant", "method", "host", "path", "reason")
    return " ".join(f"{name}={event.get(name, '')}" for name in fields) + "\n"
