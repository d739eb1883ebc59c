"""Grant credentials: the one place that turns a ``GrantRecord`` into a binding and a sealed
JSON credential back into its fields. The control plane, the operator and the sidecar all call
these, so a blob sealed by one always opens in the others.

A credential is a JSON object of string fields (``{"token": ...}`` for a managed secret,
``{"access_token", "refresh_token", ...}`` for OAuth2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from strongroom_core.sealing import bindings, envelopes, errors, keys
from strongroom_core.storage import records


def principal_of(kind: str, principal_id: str) -> str:
    return f"{kind}:{principal_id}"


def binding_for(record: records.GrantRecord) -> bindings.GrantBinding:
    """The binding a grant's sealed credential carries, built from the record itself."""
    return bindings.GrantBinding(
        namespace=record.namespace,
        grant=record.name,
        grant_uid=record.uid,
        app=record.app,
        provider=record.provider,
        principal=principal_of(record.principal_kind, record.principal_id),
    )


def encode_credential(credential: Mapping[str, str]) -> bytes:
    for field, value in credential.items():
        if not isinstance(field, str) or not isinstance(value, str):
            raise TypeError(f"credential field {field!r}: names and values must be strings")
    return json.dumps(dict(credential), sort_keys=True, separators=(",", ":")).encode("utf-8")


def decode_credential(plaintext: bytes, what: str) -> dict[str, str]:
    """Parse an opened credential. The error names the grant, never the content."""
    try:
        value = json.loads(plaintext.decode("utf-8"))
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise errors.SealingError(f"{what}: the credential is not a JSON object of string fields")
    return value


def seal_grant_credential(
    key: keys.DataKey,
    *,
    namespace: str,
    grant: str,
    grant_uid: str,
    app: str,
    provider: str,
    principal_kind: str,
    principal_id: str,
    credential: Mapping[str, str],
) -> str:
    """Seal a credential for one Grant with an App data key (normally ``keyring.active``)."""
    binding = bindings.GrantBinding(
        namespace=namespace,
        grant=grant,
        grant_uid=grant_uid,
        app=app,
        provider=provider,
        principal=principal_of(principal_kind, principal_id),
    )
    return envelopes.seal(key, encode_credential(credential), binding.associated_data())


def seal_for_record(
    key: keys.DataKey, record: records.GrantRecord, credential: Mapping[str, str]
) -> str:
    """Seal a credential bound to ``record``'s grant; put the result in ``record.sealed``."""
    return envelopes.seal(key, encode_credential(credential), binding_for(record).associated_data())


def open_grant_credential(keyring: keys.Keyring, record: records.GrantRecord) -> dict[str, str]:
    """Open ``record.sealed`` with the App keyring. ``UnknownKeyError`` means: fetch keys again."""
    plaintext = envelopes.open_envelope(
        keyring, record.sealed, binding_for(record).associated_data()
    )
    return decode_credential(plaintext, f"grant {record.namespace}/{record.name}")
