"""`strongroom rotate root` and `strongroom rotate app NAMESPACE/APP`: new keys, with a
progress line per step on stderr and the totals on stdout.

The order is core's (``strongroom_core.sealing.rotation``): the new key is added first, then
App keys are re-wrapped (root) or grants re-sealed (app), and an old key is retired only when
nothing references it, so every grant stays readable at every step. Run one rotation at a time.
In dev mode it acts on the state folder; on a cluster through the Kubernetes API with your
kubeconfig (see ``keytargets``). Each finished rotation is a ``key.rotated`` audit event
(``rotationaudit``: dev mode's store, or the control plane's with ``--server``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from strongroom_cli import keytargets, rotationaudit
from strongroom_core import audit
from strongroom_core.sealing import errors as sealing_errors
from strongroom_core.sealing import rootkeys, rotation
from strongroom_core.storage import errors as storage_errors

StepObserver = Callable[[int, int, str], Awaitable[None]]
"""Called after each printed step (tests check every grant is readable there)."""


class RotateError(Exception):
    """The rotation could not start or finish; the message says why and what to do."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rotate",
        help="rotate the root key or an App's data key",
        description=(
            "Add a new key, re-wrap App keys (root) or re-seal the App's grants (app), and "
            "retire old keys nothing uses any more. No grant is unreadable at any moment."
        ),
    )
    which = parser.add_subparsers(dest="rotate_command", required=True, metavar="WHAT")
    root = which.add_parser("root", help="a new root key; re-wraps every App's keys")
    keytargets.add_arguments(root)
    rotationaudit.add_arguments(root)
    root.set_defaults(handler=run)
    app = which.add_parser("app", help="a new data key for one App; re-seals its grants")
    app.add_argument("app_ref", metavar="NAMESPACE/APP")
    keytargets.add_arguments(app)
    rotationaudit.add_arguments(app)
    app.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(rotate(args))


def _printer(observer: StepObserver | None) -> rotation.ProgressCallback:
    async def progress(done: int, total: int, what: str) -> None:
        print(f"[{done}/{total}] {what}", file=sys.stderr, flush=True)
        if observer is not None:
            await observer(done, total, what)

    return progress


def parse_app_ref(value: str) -> tuple[str, str]:
    namespace, slash, app = value.partition("/")
    if not slash or not namespace or not app or "/" in app:
        raise RotateError(f"NAMESPACE/APP {value!r}: expected e.g. team-a/shop")
    return namespace, app


async def rotate(args: argparse.Namespace, observer: StepObserver | None = None) -> int:
    app_ref = parse_app_ref(args.app_ref) if args.rotate_command == "app" else None
    if args.server and args.token_file is None:
        raise RotateError("--token-file: required with --server (an admin token)")
    async with keytargets.open_target(args) as target:
        print(f"rotating on {target.description}", file=sys.stderr)
        progress = _printer(observer)
        try:
            if app_ref is None:
                result = await rotation.rotate_root_key(target.storage, target.root_store, progress)
                totals = (
                    f"root key rotated: new key {result.new_kid}; {result.rewrapped} App keys"
                    f" re-wrapped; retired {_ids(result.retired)}; still in use"
                    f" {_ids(result.retained)}"
                )
                print(totals)
                await _audit(target, args, rotationaudit.event("", "", totals))
                return 0
            namespace, app = app_ref
            root = await target.root_store.load()
            outcome = await rotation.rotate_app_key(target.storage, root, namespace, app, progress)
        except rootkeys.RootKeysMissingError:
            raise RotateError(
                f"no root keyring on {target.description}; start the control plane (or"
                " `strongroom dev`) once, or restore one with `strongroom key import`"
            ) from None
        except storage_errors.NotFoundError as e:
            raise RotateError(str(e)) from None
        except storage_errors.ConflictError as e:
            raise RotateError(f"{e}; another rotation ran at the same time, run again") from None
        except sealing_errors.SealingError as e:
            raise RotateError(f"{type(e).__name__}: {e}") from None
        unreadable = outcome.unreadable
        totals = (
            f"App {namespace}/{app} key rotated: new key {outcome.new_kid}; {outcome.resealed}"
            f" grants re-sealed; dropped {_ids(outcome.dropped)}; still in use"
            f" {_ids(outcome.retained)}"
            + (f"; unreadable before rotation: {', '.join(unreadable)}" if unreadable else "")
        )
        print(totals)
        await _audit(target, args, rotationaudit.event(namespace, app, totals))
    return 1 if outcome.unreadable else 0


async def _audit(
    target: keytargets.KeyTarget, args: argparse.Namespace, event: audit.AuditEvent
) -> None:
    try:
        print(await rotationaudit.record(target, args, event), file=sys.stderr)
    except rotationaudit.AuditError as e:
        raise RotateError(f"the key was rotated (totals above), but {e}") from None


def _ids(kids: tuple[str, ...]) -> str:
    return ", ".join(kids) if kids else "none"
