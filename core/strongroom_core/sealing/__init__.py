"""Sealing: AES-256-GCM envelopes, App data keys wrapped by a root key, client-side sealing to
the control plane's public key, and key rotation.

Contract (the modules below implement it; other components import modules, not names):

``sealing.keys``
    ``DataKey(kid: str, material: bytes)`` frozen; ``DataKey.generate() -> DataKey``; its repr
    never shows the material. ``Keyring(keys: Iterable[DataKey], active: str)`` with
    ``.active -> DataKey``, ``.get(kid) -> DataKey | None``, ``.kids() -> list[str]``,
    ``.with_key(key, activate=True) -> Keyring``, ``.without(kid) -> Keyring``.
``sealing.bindings``
    ``GrantBinding(namespace, grant, grant_uid, app, provider, principal)`` (principal is
    ``"<kind>:<id>"``) and ``ClientSealBinding(namespace, grant, provider)``, each with
    ``.associated_data() -> bytes`` (canonical JSON, sorted keys, with a purpose tag).
``sealing.envelopes``
    ``seal(key: DataKey, plaintext: bytes, aad: bytes) -> str``;
    ``open_envelope(keyring: Keyring, blob: str, aad: bytes) -> bytes``;
    ``key_id(blob: str) -> str``. Format ``sr1.<kid>.<b64url nonce>.<b64url ciphertext>``.
``sealing.appkeys``
    App data keys wrapped by the root keyring, stored as the App's ``keys`` document:
    ``new_app_keys_document(root: Keyring, namespace, app) -> dict``;
    ``unwrap_app_keys(root: Keyring, document: dict, namespace, app) -> Keyring``;
    ``add_app_key(root, document, namespace, app) -> dict`` (new active key, old ones kept);
    ``rewrap_app_keys(root, document, namespace, app) -> dict`` (all under root's active key);
    ``drop_app_key(document, kid) -> dict``.
``sealing.rootkeys``
    ``new_root_keyring() -> Keyring``; ``root_keyring_to_document(k) -> dict`` and
    ``root_keyring_from_document(d) -> Keyring`` (the backup/export format).
``sealing.publickey``
    X25519 + HKDF-SHA256 + AES-256-GCM sealing to the control plane:
    ``SealingKey.generate()``, ``.public_pem() -> str``, ``.kid``, ``to_document/from_document``;
    ``seal_to_public_key(public_pem: str, plaintext: bytes, binding: ClientSealBinding) -> str``
    (format ``srs1.<kid>.<b64url ephemeral pub>.<b64url nonce>.<b64url ct>``);
    ``open_sealed(key: SealingKey, blob: str, binding: ClientSealBinding) -> bytes``.
``sealing.rotation``
    Over the storage port, with a progress callback:
    ``rotate_app_key(storage, root, namespace, app, progress)`` and
    ``rotate_root_key(storage, root_store, progress)``; no grant is unreadable at any moment.
``sealing.errors``
    ``SealingError`` > ``UnknownKeyError(kid)``, ``TamperedError``, ``MalformedEnvelopeError``.
    Messages never include key material or plaintext.

Additions beyond the first contract (compatible):

- ``keys``: ``DataKey.created`` (unix seconds, not compared); ``new_kid()``, ``is_valid_kid()``;
  ``Keyring.keys()``, ``in``, ``len``, iteration.
- ``bindings.AppKeyBinding(namespace, app, kid)``: the AAD of a wrapped App key.
- ``envelopes.parse(blob) -> Envelope``.
- ``appkeys.app_kids(document)``, ``appkeys.root_kids(document)``.
- ``rootkeys.RootKeyStore`` (Protocol: ``async load()``, ``async save(keyring)``),
  ``rootkeys.FileRootKeyStore(path)`` (0600, atomic), ``rootkeys.RootKeysMissingError``,
  ``rootkeys.load_or_create(store)``.
- ``publickey``: ``public_pem()`` puts a ``Strongroom-Key-Id: <kid>`` line before the PEM;
  ``seal_to_public_key(..., kid=None)``; ``kid_from_pem``, ``sealed_key_id``.
- ``credentials``: ``binding_for(record)``, ``seal_grant_credential(key, *, namespace, grant,
  grant_uid, app, provider, principal_kind, principal_id, credential)``,
  ``seal_for_record(key, record, credential)``, ``open_grant_credential(keyring, record)``.
- ``rotation``: results ``AppKeyRotation`` / ``RootKeyRotation``; ``drop_unused_app_keys``,
  ``retire_unused_root_keys``; ``DocumentLister`` (storages with ``list_documents``); progress
  callbacks may be coroutine functions.
- ``errors.MalformedKeyDocumentError`` for key documents.
- ``bindings.ProviderSecretBinding(namespace, app, provider)`` and ``providersecrets``:
  ``seal_client_secret(key, secret, *, namespace, app, provider) -> str``,
  ``open_client_secret(keyring, blob, *, namespace, app, provider) -> str``,
  ``secret_digest(key, secret) -> str`` (an OAuth2 client secret in the compiled policy).
"""
