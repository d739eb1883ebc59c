"""Test data for the sealing tests: grant records with canary credentials, a stored App."""

from __future__ import annotations

import dataclasses

from strongroom_core.sealing import appkeys, credentials, keys
from strongroom_core.storage import records, sqlite
from tests import canary

NAMESPACE = "team-a"
APP = "shop"


def grant_record(
    name: str = "github-alice",
    *,
    namespace: str = NAMESPACE,
    app: str = APP,
    uid: str = "",
    provider: str = "github",
    principal_kind: records.PrincipalKind = "user",
    principal_id: str = "alice",
) -> records.GrantRecord:
    """An unsealed record (``sealed`` empty): seal with ``credentials.seal_for_record``."""
    return records.GrantRecord(
        namespace=namespace,
        name=name,
        uid=uid or f"uid-{name}",
        app=app,
        provider=provider,
        principal_kind=principal_kind,
        principal_id=principal_id,
        sealed="",
    )


def sealed_record(
    key: keys.DataKey, **fields: object
) -> tuple[records.GrantRecord, dict[str, str]]:
    """A record with a fresh canary credential sealed under ``key``, and that credential."""
    record = grant_record(**fields)  # type: ignore[arg-type]
    credential = {"token": canary.new("token")}
    sealed = credentials.seal_for_record(key, record, credential)
    return dataclasses.replace(record, sealed=sealed), credential


async def setup_app(
    storage: sqlite.SqliteStorage, root: keys.Keyring, grants: int, app: str = APP
) -> dict[str, dict[str, str]]:
    """Store an App keys document and ``grants`` sealed grants; returns name -> credential."""
    document = appkeys.new_app_keys_document(root, NAMESPACE, app)
    await storage.put_document(NAMESPACE, app, "keys", document, None)
    app_keyring = appkeys.unwrap_app_keys(root, document, NAMESPACE, app)
    stored: dict[str, dict[str, str]] = {}
    for index in range(grants):
        record, credential = sealed_record(
            app_keyring.active, name=f"{app}-grant-{index}", app=app, principal_id=f"user{index}"
        )
        await storage.create_grant(record)
        stored[record.name] = credential
    return stored
