"""`strongroom agent rotate NAME`: give an Agent a new API key; its older keys keep working for
the overlap (``--overlap SECONDS``, default an hour), then stop.

The new key is printed once, on stdout and nowhere else (only its SHA-256 is stored); where the
old keys stop working goes to stderr. Without --server it talks to the running dev mode (its
address and admin token are in the state folder).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from strongroom_cli import devstate


class AgentRotateError(Exception):
    """The rotation failed; the message says why and what to do (never a key or token)."""


def add_parser(agent_parsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = agent_parsers.add_parser(
        "rotate", help="give an Agent a new API key (printed once)", description=__doc__
    )
    parser.add_argument("name", help="the Agent")
    parser.add_argument(
        "--overlap",
        type=int,
        default=3600,
        help="seconds the older keys keep working (default 3600)",
    )
    parser.add_argument("--namespace", help="the Agent's namespace (default: dev mode's App's)")
    parser.add_argument("--app", help="the Agent's App (default: dev mode's App)")
    parser.add_argument("--server", help="control-plane URL (default: the running dev mode)")
    parser.add_argument("--token-file", type=Path, help="file holding an admin token")
    parser.add_argument("--state-dir", type=Path, default=devstate.DEFAULT_STATE_DIR)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.overlap < 0:
        raise AgentRotateError(f"--overlap {args.overlap}: expected 0 or more seconds")
    info = devstate.DevState(args.state_dir).read_info() or {}
    server = args.server or info.get("controlPlane")
    if not server:
        raise AgentRotateError(
            f"no --server given and no running dev mode found in {args.state_dir}/dev.json"
        )
    if not server.startswith(("https://", "http://")):
        raise AgentRotateError(f"--server {server}: expected an http(s) URL")
    token_file = args.token_file or (
        Path(info["adminTokenFile"]) if "adminTokenFile" in info else None
    )
    if token_file is None:
        raise AgentRotateError("--token-file: required with --server")
    namespace = args.namespace or info.get("namespace") or "default"
    app = args.app or info.get("app")
    if not app:
        raise AgentRotateError("--app: required (no running dev mode says which App)")
    try:
        token = token_file.read_text().strip()
    except OSError as e:
        raise AgentRotateError(f"--token-file {token_file}: cannot read: {e.strerror}") from None
    answer = post_rotate(server, token, namespace, app, args.name, args.overlap)
    sys.stdout.write(str(answer["key"]) + "\n")
    sys.stdout.flush()
    ends = answer.get("previousKeysNotAfter")
    when = (
        datetime.datetime.fromtimestamp(float(ends), datetime.UTC).isoformat(timespec="seconds")
        if isinstance(ends, int | float)
        else "now"
    )
    print(
        f"strongroom agent rotate: new key {answer.get('kid')} for agent "
        f"{namespace}/{app}/{args.name} printed above (shown once; store it now); the older "
        f"keys stop working at {when}",
        file=sys.stderr,
    )
    return 0


def post_rotate(
    server: str, token: str, namespace: str, app: str, agent: str, overlap: int
) -> dict[str, Any]:
    quote = urllib.parse.quote
    url = (
        f"{server.rstrip('/')}/v1/apps/{quote(namespace, safe='')}/{quote(app, safe='')}"
        f"/agents/{quote(agent, safe='')}/rotate"
    )
    request = urllib.request.Request(  # noqa: S310 (scheme checked)
        url,
        data=json.dumps({"overlapSeconds": overlap}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            document = json.load(response)
    except urllib.error.HTTPError as e:
        raise AgentRotateError(f"{server}: HTTP {e.code}: {_detail(e)}") from None
    except (urllib.error.URLError, OSError) as e:
        raise AgentRotateError(
            f"{server}: cannot connect ({e}); is the control plane up?"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("key"), str):
        raise AgentRotateError(f"{server}: the answer has no key")
    return document


def _detail(error: urllib.error.HTTPError) -> str:
    try:
        document = json.load(error)
    except ValueError:
        return str(error.reason)
    if isinstance(document, dict):
        return str(document.get("detail") or document.get("title") or error.reason)
    return str(error.reason)
