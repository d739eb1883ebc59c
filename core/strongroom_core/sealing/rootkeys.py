"""The root keyring: wraps every App data key. Its document form is also the backup format.

Document (``strongroom.root-keys/v1``)::

    {"format": "strongroom.root-keys/v1", "active": "<kid>",
     "keys": [{"kid": "<kid>", "key": "<base64 of 32 bytes>", "created": <unix seconds>}]}

Where it lives is a ``RootKeyStore``: a file in dev mode (``FileRootKeyStore``), a Secret in the
control plane's namespace in a cluster (later), a KMS later still. Whoever can read it can read
every credential: keep it as private as the credentials themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any, Protocol

from strongroom_core.sealing import documents, encoding, errors, keys

FORMAT = "strongroom.root-keys/v1"
_WHAT = "root keys document"


def new_root_keyring() -> keys.Keyring:
    key = keys.DataKey.generate()
    return keys.Keyring([key], key.kid)


def root_keyring_to_document(keyring: keys.Keyring) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "active": keyring.active.kid,
        "keys": [
            {"kid": k.kid, "key": encoding.b64_encode(k.material), "created": k.created}
            for k in keyring
        ],
    }


def root_keyring_from_document(document: Any) -> keys.Keyring:
    """Parse a root keys document (``MalformedKeyDocumentError`` naming the field if wrong)."""
    document = documents.check_format(document, _WHAT, FORMAT)
    loaded: list[keys.DataKey] = []
    for index, entry in enumerate(documents.key_entries(document, _WHAT)):
        loaded.append(
            keys.DataKey(
                kid=documents.kid_of(entry, _WHAT, index),
                material=documents.material_of(entry, _WHAT, index, keys.KEY_BYTES),
                created=documents.created_of(entry, _WHAT, index),
            )
        )
    active = documents.active_of(document, _WHAT, [k.kid for k in loaded])
    return keys.Keyring(loaded, active)


class RootKeysMissingError(errors.SealingError):
    """No root keyring is stored yet."""


class RootKeyStore(Protocol):
    """Where the root keyring is kept. ``load`` raises ``RootKeysMissingError`` when empty."""

    async def load(self) -> keys.Keyring: ...

    async def save(self, keyring: keys.Keyring) -> None: ...


async def load_or_create(store: RootKeyStore) -> keys.Keyring:
    """The stored root keyring, or a new one saved to ``store`` on first use."""
    try:
        return await store.load()
    except RootKeysMissingError:
        keyring = new_root_keyring()
        await store.save(keyring)
        return keyring


class FileRootKeyStore:
    """The root keyring as a JSON file, mode 0600, replaced atomically (temp file + rename) so a
    crash mid-write never leaves a half-written keyring — losing it would lose every credential.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FileRootKeyStore({str(self.path)!r})"

    async def load(self) -> keys.Keyring:
        return await asyncio.to_thread(self._load)

    async def save(self, keyring: keys.Keyring) -> None:
        await asyncio.to_thread(self._save, keyring)

    def _load(self) -> keys.Keyring:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RootKeysMissingError(f"no root keys file at {self.path}") from None
        try:
            document = json.loads(text)
        except ValueError:
            raise errors.MalformedKeyDocumentError(
                f"root keys file {self.path} is not JSON; restore it from a backup"
            ) from None
        return root_keyring_from_document(document)

    def _save(self, keyring: keys.Keyring) -> None:
        data = json.dumps(root_keyring_to_document(keyring), indent=2).encode("utf-8") + b"\n"
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = directory / f".{self.path.name}.{secrets.token_hex(6)}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            raise
        _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename durable; not every platform lets a directory be opened.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
