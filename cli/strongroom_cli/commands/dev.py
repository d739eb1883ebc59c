"""`strongroom dev`: the control plane on SQLite, one sidecar and the echo upstream on loopback,
from a folder of the same YAML a cluster takes (like `vault server -dev`). Edits to the folder
are picked up while it runs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import TextIO

from strongroom_cli import devstate
from strongroom_cli.devmode import environment

DevModeError = environment.DevModeError
RELOAD_INTERVAL = 1.0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "dev",
        help="run the control plane and a sidecar on this machine, no cluster needed",
        description=__doc__,
    )
    parser.add_argument(
        "folder", nargs="?", type=Path, default=Path("examples"), help="resource YAML folder"
    )
    parser.add_argument("--app", help="the App whose sidecar to run (when there are several)")
    parser.add_argument("--state-dir", type=Path, default=devstate.DEFAULT_STATE_DIR)
    parser.add_argument("--control-plane-port", type=int, default=15070)
    parser.add_argument("--proxy-port", type=int, default=15080)
    parser.add_argument("--health-port", type=int, default=15081)
    parser.add_argument("--echo-port", type=int, default=15090)
    parser.add_argument(
        "--quiet-audit", action="store_true", help="do not print audit events on stdout"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    options = environment.DevOptions(
        folder=args.folder,
        app=args.app,
        state_dir=args.state_dir,
        control_plane_port=args.control_plane_port,
        proxy_port=args.proxy_port,
        health_port=args.health_port,
        echo_port=args.echo_port,
        audit_stdout=not args.quiet_audit,
    )
    try:
        asyncio.run(serve(options))
    except FileNotFoundError as e:
        raise DevModeError(str(e)) from None
    except OSError as e:
        raise DevModeError(f"cannot listen: {e.strerror} (is another dev mode running?)") from None
    return 0


async def serve(options: environment.DevOptions, out: TextIO = sys.stderr) -> None:
    env = await environment.DevEnvironment.start(options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        print_banner(env, out)
        await _watch_folder(env, stop, out)
    finally:
        await env.stop()
        print("strongroom dev: stopped", file=out)


def print_banner(env: environment.DevEnvironment, out: TextIO) -> None:
    namespace, app = env.app.key
    state = env.options.state_dir
    lines = [
        f"Strongroom dev mode: App {namespace}/{app}, state in {state}/",
        f"  sidecar        {env.sidecar_url}   (health and metrics {env.health_url})",
        f"  control plane  {env.control_plane_url}   (admin token in {state}/admin-token)",
        f"  echo upstream  {env.echo_url}",
        "",
        *_status_lines(env),
        *_agent_key_lines(env),
        "",
        "Try:",
        f"  curl -sS {env.sidecar_url}/proxy -H 'Strongroom-Target: {env.echo_url}/hello' "
        "-H 'Strongroom-Grant: echo-demo'",
        "  strongroom audit query --json --limit 5",
        f"  strongroom seal --public-key {state}/sealing-key.pub.pem --grant NAME "
        "--provider NAME < secret.txt",
        "",
    ]
    print("\n".join(lines), file=out, flush=True)


def _agent_key_lines(env: environment.DevEnvironment) -> list[str]:
    """Where new agent keys were written: the path only, never the key."""
    lines = [f"  new agent key written to {path} (mode 0600)" for path in env.agent_key_files]
    env.agent_key_files.clear()
    return lines


def _status_lines(env: environment.DevEnvironment) -> list[str]:
    lines = ["Resources:"]
    for (kind, namespace, name), outcome in sorted(env.report.items()):
        mark = "ok" if outcome.ok else outcome.state
        detail = f": {outcome.message}" if outcome.message and not outcome.ok else ""
        lines.append(f"  [{mark}] {kind} {namespace}/{name}{detail}")
    lines.extend(f"  [invalid] {problem}" for problem in env.loaded.problems)
    return lines


async def _watch_folder(env: environment.DevEnvironment, stop: asyncio.Event, out: TextIO) -> None:
    seen = _signature(env.options.folder)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RELOAD_INTERVAL)
        current = _signature(env.options.folder)
        if current == seen or stop.is_set():
            continue
        seen = current
        try:
            await env.reload()
        except FileNotFoundError as e:
            print(f"strongroom dev: {e}; still serving what was loaded", file=out, flush=True)
            continue
        print("strongroom dev: folder changed, reloaded", file=out)
        print("\n".join(_status_lines(env) + _agent_key_lines(env)), file=out, flush=True)


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        entries = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
        return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in entries)
    except OSError:
        return ()
