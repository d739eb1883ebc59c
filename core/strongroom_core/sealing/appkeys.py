"""App data keys, wrapped by the root keyring and stored as the App's ``keys`` document.

Document (``strongroom.app-keys/v1``)::

    {"format": "strongroom.app-keys/v1", "active": "<app kid>",
     "keys": [{"kid": "<app kid>", "rootKid": "<root kid>", "wrapped": "<sr1 envelope>",
               "created": <unix seconds>}]}

Each wrapped key is an envelope sealed with a root key and bound (``bindings.AppKeyBinding``) to
namespace, App and its own kid, so copying it into another App's document does not hand that
App the key. Functions here are pure: they take a document and return a new one; storing it with
compare-and-swap is ``rotation``'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom_core.sealing import bindings, documents, envelopes, errors, keys

FORMAT = "strongroom.app-keys/v1"


def _what(namespace: str, app: str) -> str:
    return f"keys document of App {namespace}/{app}"


def _wrap(root: keys.Keyring, key: keys.DataKey, namespace: str, app: str) -> dict[str, Any]:
    aad = bindings.AppKeyBinding(namespace, app, key.kid).associated_data()
    return {
        "kid": key.kid,
        "rootKid": root.active.kid,
        "wrapped": envelopes.seal(root.active, key.material, aad),
        "created": key.created,
    }


def _entries(document: Any, namespace: str, app: str) -> list[dict[str, Any]]:
    """Validated copies of the document's entries (active checked too)."""
    what = _what(namespace, app)
    document = documents.check_format(document, what, FORMAT)
    entries: list[dict[str, Any]] = []
    for index, entry in enumerate(documents.key_entries(document, what)):
        kid = documents.kid_of(entry, what, index)
        root_kid, wrapped = entry.get("rootKid"), entry.get("wrapped")
        if not isinstance(root_kid, str) or not isinstance(wrapped, str):
            raise documents.fail(what, f"keys[{index}] needs string fields rootKid and wrapped")
        if envelopes.key_id(wrapped) != root_kid:
            raise documents.fail(what, f"keys[{index}].rootKid does not match the wrapped key")
        entries.append(
            {
                "kid": kid,
                "rootKid": root_kid,
                "wrapped": wrapped,
                "created": documents.created_of(entry, what, index),
            }
        )
    documents.active_of(document, what, [e["kid"] for e in entries])
    return entries


def _document(active: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": FORMAT, "active": active, "keys": entries}


def new_app_keys_document(root: keys.Keyring, namespace: str, app: str) -> dict[str, Any]:
    """A keys document holding one fresh App key, wrapped under the root's active key."""
    key = keys.DataKey.generate()
    return _document(key.kid, [_wrap(root, key, namespace, app)])


def unwrap_app_keys(
    root: keys.Keyring, document: Mapping[str, Any], namespace: str, app: str
) -> keys.Keyring:
    """The App's keyring. ``UnknownKeyError`` (root kid) when the root keyring is stale: reload
    it; ``TamperedError`` when an entry was altered or copied from another App."""
    entries = _entries(document, namespace, app)
    unwrapped: list[keys.DataKey] = []
    for entry in entries:
        kid = entry["kid"]
        aad = bindings.AppKeyBinding(namespace, app, kid).associated_data()
        material = envelopes.open_envelope(root, entry["wrapped"], aad)
        if len(material) != keys.KEY_BYTES:
            raise errors.MalformedKeyDocumentError(
                f"{_what(namespace, app)}: App key {kid!r} does not unwrap to a 32-byte key"
            )
        unwrapped.append(keys.DataKey(kid=kid, material=material, created=entry["created"]))
    return keys.Keyring(unwrapped, str(document["active"]))


def add_app_key(
    root: keys.Keyring, document: Mapping[str, Any], namespace: str, app: str
) -> dict[str, Any]:
    """The document with a new App key as active; the old keys stay so old blobs still open."""
    entries = _entries(document, namespace, app)
    key = keys.DataKey.generate()
    return _document(key.kid, [*entries, _wrap(root, key, namespace, app)])


def rewrap_app_keys(
    root: keys.Keyring, document: Mapping[str, Any], namespace: str, app: str
) -> dict[str, Any]:
    """The document with every App key wrapped under the root's active key. Entries already
    wrapped under it are kept as they are, so the call is idempotent."""
    entries = _entries(document, namespace, app)
    app_keyring = unwrap_app_keys(root, document, namespace, app)
    rewrapped = [
        entry
        if envelopes.key_id(entry["wrapped"]) == root.active.kid
        else _wrap(root, _required(app_keyring, entry["kid"]), namespace, app)
        for entry in entries
    ]
    return _document(str(document["active"]), rewrapped)


def _required(keyring: keys.Keyring, kid: str) -> keys.DataKey:
    key = keyring.get(kid)
    if key is None:  # pragma: no cover - unwrap_app_keys returned every entry
        raise errors.UnknownKeyError(kid)
    return key


def drop_app_key(document: Mapping[str, Any], kid: str) -> dict[str, Any]:
    """The document without App key ``kid``. The active key cannot be dropped (``ValueError``);
    an absent kid raises ``UnknownKeyError``. Callers make sure no grant still uses it."""
    active = str(document.get("active"))
    if kid == active:
        raise ValueError(f"App key {kid!r} is the active key and cannot be dropped")
    entries = list(document.get("keys") or [])
    kept = [e for e in entries if not (isinstance(e, Mapping) and e.get("kid") == kid)]
    if len(kept) == len(entries):
        raise errors.UnknownKeyError(kid, f"App keys document holds no key {kid!r}")
    return _document(active, [dict(e) for e in kept])


def app_kids(document: Mapping[str, Any]) -> list[str]:
    """The App key ids in a document, oldest first."""
    return [str(e.get("kid")) for e in document.get("keys") or [] if isinstance(e, Mapping)]


def root_kids(document: Mapping[str, Any]) -> set[str]:
    """The root key ids the document's wrapped keys depend on (read from the envelopes)."""
    found: set[str] = set()
    for entry in document.get("keys") or []:
        if isinstance(entry, Mapping) and isinstance(entry.get("wrapped"), str):
            found.add(envelopes.key_id(entry["wrapped"]))
    return found
