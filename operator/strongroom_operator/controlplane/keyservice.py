"""App data keys for key release: unwrap the App's ``keys`` document with the root keyring.

Key material lives only in this process's memory (the root keyring from the root key store,
the unwrapped App keyrings); nothing here writes it to a log or an error.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from strongroom_core.sealing import appkeys, errors, keys
from strongroom_core.storage import errors as storage_errors
from strongroom_core.storage import ports

KEYS_DOCUMENT = "keys"


class RootKeySource(Protocol):
    """What the key service needs of ``sealing.rootkeys.RootKeyStore``."""

    async def load(self) -> keys.Keyring: ...


class KeyService:
    """Unwraps App keyrings on demand.

    The root keyring is loaded once and reloaded when an App document names a root key it does
    not hold (a root rotation happened in another process). Unwrapped App keyrings are cached
    by the keys document's version, so a rotation (a new document version) is seen at once.
    """

    def __init__(self, storage: ports.Storage, root_store: RootKeySource) -> None:
        self._storage = storage
        self._root_store = root_store
        self._root: keys.Keyring | None = None
        self._cache: dict[tuple[str, str], tuple[int, keys.Keyring]] = {}
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"KeyService(<{len(self._cache)} App keyrings cached>)"

    async def _root_keyring(self, *, reload: bool = False) -> keys.Keyring:
        async with self._lock:
            if self._root is None or reload:
                self._root = await self._root_store.load()
            return self._root

    async def app_keys(self, namespace: str, app: str) -> keys.Keyring:
        """The App's keyring; ``storage.errors.NotFoundError`` when the App has no keys yet."""
        document = await self._storage.get_document(namespace, app, KEYS_DOCUMENT)
        if document is None:
            raise storage_errors.NotFoundError(
                f"App {namespace}/{app} has no keys yet; the operator creates them when it"
                " reconciles the App"
            )
        cached = self._cache.get((namespace, app))
        if cached is not None and cached[0] == document.version:
            return cached[1]
        root = await self._root_keyring()
        try:
            keyring = appkeys.unwrap_app_keys(root, document.body, namespace, app)
        except errors.UnknownKeyError:
            root = await self._root_keyring(reload=True)
            keyring = appkeys.unwrap_app_keys(root, document.body, namespace, app)
        self._cache[(namespace, app)] = (document.version, keyring)
        return keyring

    async def ensure_app_keys(self, namespace: str, app: str) -> keys.Keyring:
        """Create the App's keys document if absent (a concurrent creator wins harmlessly);
        returns the App's keyring either way."""
        if await self._storage.get_document(namespace, app, KEYS_DOCUMENT) is None:
            root = await self._root_keyring()
            body = appkeys.new_app_keys_document(root, namespace, app)
            with contextlib.suppress(storage_errors.AlreadyExistsError):
                await self._storage.put_document(namespace, app, KEYS_DOCUMENT, body, None)
        return await self.app_keys(namespace, app)
