"""Key rotation over the storage port, in an order that never leaves a grant unreadable.

App key (``rotate_app_key``):
  1. add a new App key as active in the App's ``keys`` document, keeping the old ones — from
     here on every reader that fetches keys knows both;
  2. re-seal every grant of the App under the new key (compare-and-swap; on a conflict re-read
     and redo, because a refresh may have written a new credential meanwhile; a grant whose
     refresh claim is held is left alone until the claim ends, so the refresher's fenced
     write-back is never broken);
  3. drop an old key only when no grant's envelope names it (``drop_unused_app_keys``).

Root key (``rotate_root_key``):
  1. add a new root key as active and save the root keyring;
  2. re-wrap every App's ``keys`` document under it;
  3. retire an old root key only when no App document references it
     (``retire_unused_root_keys``).

Both drop steps re-check after writing and put a key back if a writer that still held the old
keys used it meanwhile, so the worst a race does is keep an old key for the next run.

Run one rotation at a time per App (and one root rotation at a time): the root key store is not
compare-and-swap. ``progress(done, total, what)`` is called after every step; it may be a plain
function or a coroutine function (awaited), and ``what`` never holds key material.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal, Protocol, runtime_checkable

from strongroom_core.sealing import appkeys, credentials, envelopes, errors, keys, rootkeys
from strongroom_core.storage import errors as storage_errors
from strongroom_core.storage import ports, records

ProgressCallback = Callable[[int, int, str], Awaitable[None] | None]
AppRef = tuple[str, str]
"""(namespace, app)."""

KEYS_DOCUMENT = "keys"
POLICY_DOCUMENT = "policy"


@runtime_checkable
class DocumentLister(Protocol):
    """A storage that can enumerate documents: ``(namespace, app)`` of every document ``name``.

    Root rotation must see every App's keys document, or retiring the old root key would strand
    the one it missed; a storage without this needs ``apps=`` passed explicitly.
    """

    async def list_documents(self, name: str) -> list[AppRef]: ...


@dataclasses.dataclass(frozen=True, slots=True)
class AppKeyRotation:
    namespace: str
    app: str
    new_kid: str
    resealed: int
    """Grants re-sealed under the new key."""
    dropped: tuple[str, ...]
    """Old App key ids removed from the keys document."""
    retained: tuple[str, ...]
    """Old App key ids kept because a grant still names them; ``drop_unused_app_keys`` later."""
    unreadable: tuple[str, ...]
    """Grants whose sealed value could not be opened (already unreadable before rotation)."""


@dataclasses.dataclass(frozen=True, slots=True)
class RootKeyRotation:
    new_kid: str
    rewrapped: int
    """App keys documents re-wrapped under the new root key."""
    retired: tuple[str, ...]
    retained: tuple[str, ...]


async def _report(progress: ProgressCallback | None, done: int, total: int, what: str) -> None:
    if progress is not None:
        result = progress(done, total, what)
        if inspect.isawaitable(result):
            await result


# --- App keys ---------------------------------------------------------------------------------


async def _update_keys_document(
    storage: ports.Storage,
    namespace: str,
    app: str,
    change: Callable[[dict[str, Any]], dict[str, Any] | None],
) -> records.StoredDocument | None:
    """Compare-and-swap ``change`` onto the App's keys document, re-reading on conflict.
    ``change`` returns ``None`` for "nothing to write". ``None`` if there is no document."""
    while True:
        stored = await storage.get_document(namespace, app, KEYS_DOCUMENT)
        if stored is None:
            return None
        body = change(stored.body)
        if body is None or body == stored.body:
            return stored
        try:
            return await storage.put_document(namespace, app, KEYS_DOCUMENT, body, stored.version)
        except storage_errors.ConflictError:
            continue


def _claimed(record: records.GrantRecord, now: float) -> bool:
    return record.claim_holder is not None and (record.claim_expires_at or 0.0) > now


ResealOutcome = Literal["resealed", "current", "gone", "claimed", "unreadable"]


async def _reseal_grant(
    storage: ports.Storage,
    keyring: keys.Keyring,
    record: records.GrantRecord | None,
    clock: Callable[[], float],
) -> ResealOutcome:
    while True:
        if record is None:
            return "gone"
        if not record.sealed:
            return "current"
        try:
            if envelopes.key_id(record.sealed) == keyring.active.kid:
                return "current"
            if _claimed(record, clock()):
                return "claimed"
            aad = credentials.binding_for(record).associated_data()
            plaintext = envelopes.open_envelope(keyring, record.sealed, aad)
        except (errors.TamperedError, errors.MalformedEnvelopeError):
            return "unreadable"
        resealed = dataclasses.replace(
            record, sealed=envelopes.seal(keyring.active, plaintext, aad)
        )
        try:
            await storage.replace_grant(resealed, record.version)
        except storage_errors.ConflictError:
            record = await storage.get_grant(record.namespace, record.name)
            continue
        except storage_errors.NotFoundError:
            return "gone"
        return "resealed"


async def _kids_in_use(storage: ports.Storage, namespace: str, app: str) -> set[str]:
    """Key ids any sealed value of the App still names: its grants, and the client secrets in
    its compiled policy (those move to the new key when the policy is compiled again)."""
    sealed = [record.sealed for record in await storage.list_grants(namespace, app)]
    policy = await storage.get_document(namespace, app, POLICY_DOCUMENT)
    if policy is not None:
        sealed += _policy_client_secrets(policy.body)
    used: set[str] = set()
    for blob in sealed:
        if blob:
            try:
                used.add(envelopes.key_id(blob))
            except errors.MalformedEnvelopeError:
                continue
    return used


def _policy_client_secrets(body: Mapping[str, Any]) -> list[str]:
    providers = body.get("providers")
    if not isinstance(providers, Mapping):
        return []
    found: list[str] = []
    for provider in providers.values():
        oauth2 = provider.get("oauth2") if isinstance(provider, Mapping) else None
        blob = oauth2.get("clientSecretSealed") if isinstance(oauth2, Mapping) else None
        if isinstance(blob, str):
            found.append(blob)
    return found


async def drop_unused_app_keys(storage: ports.Storage, namespace: str, app: str) -> list[str]:
    """Drop every non-active App key no grant's envelope names; returns the dropped key ids."""
    stored = await storage.get_document(namespace, app, KEYS_DOCUMENT)
    if stored is None:
        return []
    in_use = await _kids_in_use(storage, namespace, app)
    removed: dict[str, dict[str, Any]] = {}

    def without_unused(body: dict[str, Any]) -> dict[str, Any] | None:
        removed.clear()
        for entry in body.get("keys") or []:
            kid = entry.get("kid")
            if kid != body.get("active") and kid not in in_use:
                removed[kid] = dict(entry)
        for kid in removed:
            body = appkeys.drop_app_key(body, kid)
        return body if removed else None

    await _update_keys_document(storage, namespace, app, without_unused)
    if not removed:
        return []
    # A writer holding the keys from before may have sealed with a dropped key meanwhile.
    still_used = await _kids_in_use(storage, namespace, app)
    restore = {kid: e for kid, e in removed.items() if kid in still_used}
    if restore:

        def with_restored(body: dict[str, Any]) -> dict[str, Any]:
            present = set(appkeys.app_kids(body))
            missing = [e for kid, e in restore.items() if kid not in present]
            return {**body, "keys": [*missing, *body["keys"]]}

        await _update_keys_document(storage, namespace, app, with_restored)
    return [kid for kid in removed if kid not in restore]


async def rotate_app_key(
    storage: ports.Storage,
    root: keys.Keyring,
    namespace: str,
    app: str,
    progress: ProgressCallback | None = None,
    *,
    claim_poll_seconds: float = 0.2,
    clock: Callable[[], float] = time.time,
    attempts: int = 3,
) -> AppKeyRotation:
    """Rotate an App's data key (see the module docstring for the order).

    ``NotFoundError`` if the App has no keys document. Progress: step 1 is the new key, one step
    per grant, the last step the drop of old keys.
    """
    new_kid = ""

    def with_new_key(body: dict[str, Any]) -> dict[str, Any]:
        nonlocal new_kid
        body = appkeys.add_app_key(root, body, namespace, app)
        new_kid = body["active"]
        return body

    stored = await _update_keys_document(storage, namespace, app, with_new_key)
    if stored is None:
        raise storage_errors.NotFoundError(
            f"App {namespace}/{app} has no keys document; reconcile the App before rotating"
        )
    keyring = appkeys.unwrap_app_keys(root, stored.body, namespace, app)
    grants = await storage.list_grants(namespace, app)
    total = len(grants) + 2
    done = 1
    await _report(progress, done, total, f"App {namespace}/{app}: key {new_kid} added as active")

    resealed = 0
    dropped: list[str] = []
    unreadable: set[str] = set()
    pending: list[records.GrantRecord | None] = list(grants)
    for attempt in range(max(1, attempts)):
        while pending:
            waiting: list[str] = []
            for record in pending:
                if record is None:
                    continue
                outcome = await _reseal_grant(storage, keyring, record, clock)
                if outcome == "claimed":
                    waiting.append(record.name)
                    continue
                resealed += outcome == "resealed"
                if outcome == "unreadable":
                    unreadable.add(record.name)
                if attempt == 0:
                    done += 1
                    await _report(
                        progress, done, total, f"grant {namespace}/{record.name}: {outcome}"
                    )
            if waiting:
                await asyncio.sleep(claim_poll_seconds)
            pending = [await storage.get_grant(namespace, name) for name in waiting]
        dropped += await drop_unused_app_keys(storage, namespace, app)
        current = await storage.get_document(namespace, app, KEYS_DOCUMENT)
        old = [k for k in appkeys.app_kids(current.body if current else {}) if k != new_kid]
        if not old or attempt + 1 == max(1, attempts):
            break
        # Someone wrote with an old key after our pass: re-seal those grants and try again.
        pending = [r for r in await storage.list_grants(namespace, app) if r.name not in unreadable]
    done = total
    await _report(
        progress,
        done,
        total,
        f"App {namespace}/{app}: old keys dropped: {', '.join(dropped) or 'none'}",
    )
    return AppKeyRotation(
        namespace=namespace,
        app=app,
        new_kid=new_kid,
        resealed=resealed,
        dropped=tuple(dropped),
        retained=tuple(old),
        unreadable=tuple(sorted(unreadable)),
    )


# --- root keys --------------------------------------------------------------------------------


async def _apps(storage: ports.Storage, apps: Iterable[AppRef] | None) -> list[AppRef]:
    """Every App to consider: those named, plus all the storage can list. A partial list must
    never strand an App, so a listing storage's answer is always included."""
    named = list(apps) if apps is not None else []
    if isinstance(storage, DocumentLister):
        listed = await storage.list_documents(KEYS_DOCUMENT)
        return sorted(set(named) | set(listed))
    if apps is None:
        raise TypeError(
            "this storage cannot list documents: pass apps=[(namespace, app), ...] naming every App"
        )
    return list(dict.fromkeys(named))


async def _root_kids_in_use(storage: ports.Storage, apps: list[AppRef]) -> set[str]:
    used: set[str] = set()
    for namespace, app in apps:
        stored = await storage.get_document(namespace, app, KEYS_DOCUMENT)
        if stored is not None:
            used |= appkeys.root_kids(stored.body)
    return used


async def retire_unused_root_keys(
    storage: ports.Storage,
    root_store: rootkeys.RootKeyStore,
    *,
    apps: Iterable[AppRef] | None = None,
) -> list[str]:
    """Remove every non-active root key no App keys document references; returns their ids."""
    app_list = await _apps(storage, apps)
    root = await root_store.load()
    in_use = await _root_kids_in_use(storage, app_list)
    retired = {k.kid: k for k in root if k.kid != root.active.kid and k.kid not in in_use}
    if not retired:
        return []
    trimmed = root
    for kid in retired:
        trimmed = trimmed.without(kid)
    await root_store.save(trimmed)
    # An operator holding the old root keyring may have created an App document meanwhile.
    still_used = await _root_kids_in_use(storage, await _apps(storage, app_list))
    restore = [key for kid, key in retired.items() if kid in still_used]
    if restore:
        for key in restore:
            trimmed = trimmed.with_key(key, activate=False)
        await root_store.save(trimmed)
    return [kid for kid in retired if kid not in {k.kid for k in restore}]


async def rotate_root_key(
    storage: ports.Storage,
    root_store: rootkeys.RootKeyStore,
    progress: ProgressCallback | None = None,
    *,
    apps: Iterable[AppRef] | None = None,
) -> RootKeyRotation:
    """Rotate the root key (see the module docstring for the order). ``apps`` names every App
    with a keys document; it may be omitted when the storage is a ``DocumentLister`` (whose
    listing is always added to it)."""
    app_list = await _apps(storage, apps)
    root = (await root_store.load()).with_key(keys.DataKey.generate())
    await root_store.save(root)
    total = len(app_list) + 2
    done = 1
    await _report(progress, done, total, f"root key {root.active.kid} added as active")

    rewrapped = 0
    for namespace, app in app_list:
        changed = False

        def rewrap(body: dict[str, Any], ns: str = namespace, name: str = app) -> dict[str, Any]:
            nonlocal changed
            new_body = appkeys.rewrap_app_keys(root, body, ns, name)
            changed = new_body != body
            return new_body

        await _update_keys_document(storage, namespace, app, rewrap)
        rewrapped += changed
        done += 1
        await _report(
            progress,
            done,
            total,
            f"App {namespace}/{app}: keys {'re-wrapped' if changed else 'already current'}",
        )
    retired = await retire_unused_root_keys(storage, root_store, apps=app_list)
    final = await root_store.load()
    retained = [k for k in final.kids() if k != root.active.kid]
    await _report(progress, total, total, f"old root keys retired: {', '.join(retired) or 'none'}")
    return RootKeyRotation(
        new_kid=root.active.kid,
        rewrapped=rewrapped,
        retired=tuple(retired),
        retained=tuple(retained),
    )
