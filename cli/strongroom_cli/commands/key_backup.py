"""`strongroom key export --out FILE` and `strongroom key import FILE`: back up and restore the
root keyring (the ``strongroom.root-keys/v1`` document, core's backup format).

Whoever holds the exported file can read every credential: it is written with mode 0600 and
never over an existing file unless ``--force``. Import refuses to replace a *different* keyring
without ``--force``; with it, the imported keys become the keyring and its active key the
active one, and keys only the current keyring had are kept (inactive), so App keys already
wrapped by them stay readable until the next `strongroom rotate root` retires them. Disaster
recovery is walked through in docs/operations.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from strongroom_cli import keytargets
from strongroom_core.sealing import errors as sealing_errors
from strongroom_core.sealing import keys, rootkeys
from strongroom_core.storage import errors as storage_errors


class KeyBackupError(Exception):
    """Export or import failed; the message names the file or flag (never key material)."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("key", help="back up and restore the root keyring")
    which = parser.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    export = which.add_parser(
        "export", help="write the root keyring to a file (mode 0600) for backup"
    )
    export.add_argument("--out", type=Path, required=True, help="the backup file to write")
    export.add_argument("--force", action="store_true", help="overwrite an existing file")
    keytargets.add_arguments(export)
    export.set_defaults(handler=run_export)
    restore = which.add_parser("import", help="restore the root keyring from a backup file")
    restore.add_argument("file", type=Path, help="a file written by `strongroom key export`")
    restore.add_argument(
        "--force", action="store_true", help="replace a different keyring already stored"
    )
    keytargets.add_arguments(restore)
    restore.set_defaults(handler=run_import)


def run_export(args: argparse.Namespace) -> int:
    return asyncio.run(export_keys(args))


def run_import(args: argparse.Namespace) -> int:
    return asyncio.run(import_keys(args))


async def export_keys(args: argparse.Namespace) -> int:
    async with keytargets.open_target(args) as target:
        try:
            keyring = await target.root_store.load()
        except rootkeys.RootKeysMissingError:
            raise KeyBackupError(f"no root keyring on {target.description}") from None
    text = json.dumps(rootkeys.root_keyring_to_document(keyring), indent=2) + "\n"
    _write_private(args.out, text, overwrite=args.force)
    print(
        f"exported {len(keyring)} root keys (active {keyring.active.kid}) from"
        f" {target.description} to {args.out}; keep it as private as the credentials"
    )
    return 0


def _write_private(path: Path, text: str, *, overwrite: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise KeyBackupError(f"--out {path}: exists; pass --force to overwrite it") from None
    except OSError as e:
        raise KeyBackupError(f"--out {path}: cannot write: {e.strerror}") from None
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)  # an overwritten file keeps no looser mode
        handle.write(text)


def read_backup(path: Path) -> keys.Keyring:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise KeyBackupError(f"{path}: cannot read: {e.strerror}") from None
    except ValueError:
        raise KeyBackupError(f"{path}: not JSON; expected a `strongroom key export` file") from None
    try:
        return rootkeys.root_keyring_from_document(document)
    except sealing_errors.SealingError as e:
        raise KeyBackupError(f"{path}: {e}") from None


def merged(imported: keys.Keyring, existing: keys.Keyring) -> keys.Keyring:
    """The imported keyring, active as it was exported, plus keys only ``existing`` had."""
    result = imported
    for key in existing:
        if key.kid not in imported:
            result = result.with_key(key, activate=False)
    return result


def _same(a: keys.Keyring, b: keys.Keyring) -> bool:
    return a.active.kid == b.active.kid and {(k.kid, k.material) for k in a} == {
        (k.kid, k.material) for k in b
    }


async def import_keys(args: argparse.Namespace) -> int:
    imported = read_backup(args.file)
    async with keytargets.open_target(args) as target:
        try:
            existing: keys.Keyring | None = await target.root_store.load()
        except rootkeys.RootKeysMissingError:
            existing = None
        except sealing_errors.SealingError as e:
            raise KeyBackupError(
                f"the keyring on {target.description} is unreadable ({e}); nothing was changed."
                " Keep a copy of it, remove it (the file, or `kubectl delete secret`), and"
                " import again"
            ) from None
        if existing is not None and _same(existing, imported):
            print(f"{target.description} already holds this keyring; nothing to do")
            return 0
        if existing is not None and not args.force:
            raise KeyBackupError(
                f"{target.description} holds a different root keyring (active"
                f" {existing.active.kid}, keys {', '.join(existing.kids())}); the backup's"
                f" active key is {imported.active.kid}. Pass --force to make the backup's keys"
                " the keyring (keys only the current one has are kept, inactive)"
            )
        final = imported if existing is None else merged(imported, existing)
        try:
            await target.root_store.save(final)
        except storage_errors.ConflictError as e:
            raise KeyBackupError(f"{e}; run the import again") from None
    kept = [k for k in final.kids() if k not in imported]
    print(
        f"imported {len(imported)} root keys (active {final.active.kid}) into"
        f" {target.description}"
        + (f"; kept {', '.join(kept)} from the keyring that was there" if kept else ""),
        file=sys.stdout,
    )
    return 0
