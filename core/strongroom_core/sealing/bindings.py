"""Associated data: what a sealed blob is bound to.

AES-GCM authenticates the associated data without storing it, so a blob opens only when the
reader supplies the same binding it was sealed with. A blob copied into another Grant, used with
another Provider, App, principal or namespace, or a wrapped App key copied to another App, fails
authentication.

The encoding is canonical JSON (sorted keys, no spaces, UTF-8) with a ``purpose`` tag, so two
binding kinds can never produce the same bytes and no field can bleed into its neighbour.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


def _canonical(purpose: str, fields: dict[str, str]) -> bytes:
    return json.dumps(
        {"purpose": purpose, **fields},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


@dataclass(frozen=True, slots=True)
class GrantBinding:
    """A grant credential sealed with an App data key. ``principal`` is ``"<kind>:<id>"``."""

    namespace: str
    grant: str
    grant_uid: str
    app: str
    provider: str
    principal: str

    PURPOSE = "strongroom.grant-credential/v1"

    def associated_data(self) -> bytes:
        return _canonical(self.PURPOSE, asdict(self))


@dataclass(frozen=True, slots=True)
class ClientSealBinding:
    """A value sealed client-side (``strongroom seal``) to the control plane's public key.

    No grant uid: the person sealing only knows the name they are about to apply. Namespace,
    grant name and provider are enough to stop a sealed value being replayed into another Grant.
    """

    namespace: str
    grant: str
    provider: str

    PURPOSE = "strongroom.client-seal/v1"

    def associated_data(self) -> bytes:
        return _canonical(self.PURPOSE, asdict(self))


@dataclass(frozen=True, slots=True)
class AppKeyBinding:
    """An App data key wrapped by the root key: bound to namespace, App and the App key's id, so a
    wrapped key copied into another App's keys document, or under another id, fails to unwrap."""

    namespace: str
    app: str
    kid: str

    PURPOSE = "strongroom.app-key/v1"

    def associated_data(self) -> bytes:
        return _canonical(self.PURPOSE, asdict(self))


@dataclass(frozen=True, slots=True)
class ProviderSecretBinding:
    """A Provider's OAuth2 client secret sealed with an App data key into the compiled policy:
    bound to namespace, App and Provider, so a sealed secret copied into another Provider's (or
    App's) policy entry fails to open, and the purpose tag keeps it apart from grant credentials.
    """

    namespace: str
    app: str
    provider: str

    PURPOSE = "strongroom.provider-client-secret/v1"

    def associated_data(self) -> bytes:
        return _canonical(self.PURPOSE, asdict(self))
