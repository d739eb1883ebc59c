"""The App's state as this sidecar knows it: compiled policy, grant records, keyring.

Filled only from the control plane's watch stream and key release; read by every call without
I/O. Updates are idempotent by record version, so a replayed event after a reconnect changes
nothing. Opened credentials are cached per grant and dropped as soon as the record changes
(new version means new sealed value, new state or new expiry).
"""

from __future__ import annotations

from dataclasses import dataclass

from strongroom_core import policy
from strongroom_core.sealing import keys
from strongroom_core.storage import records
from strongroom_sidecar import providers


@dataclass(frozen=True, slots=True)
class _CachedCredential:
    uid: str
    version: int
    generation: int
    fields: dict[str, str]


class AppState:
    def __init__(self, namespace: str, app: str) -> None:
        self.namespace = namespace
        self.app = app
        self.policy: policy.CompiledPolicy | None = None
        self.providers: dict[str, providers.CompiledProvider] = {}
        self.grants: dict[str, records.GrantRecord] = {}
        self.keyring: keys.Keyring | None = None
        self.revision = 0
        """Revision of the last applied watch event: where a reconnect resumes."""
        self.synced = False
        """A complete snapshot has been applied at least once (SYNCED seen)."""
        self._resync_seen: set[str] | None = None
        self._credentials: dict[str, _CachedCredential] = {}
        self._by_provider: dict[str, dict[str, list[str]]] | None = None

    @property
    def ready(self) -> bool:
        return self.synced and self.keyring is not None and self.policy is not None

    # --- updates from the watch stream ---------------------------------------------------

    def put_grant(self, record: records.GrantRecord) -> bool:
        """Apply a grant record; returns ``False`` for a stale or repeated version."""
        if self._resync_seen is not None:
            self._resync_seen.add(record.name)
        current = self.grants.get(record.name)
        if current is not None and current.uid == record.uid and current.version >= record.version:
            return False
        self.grants[record.name] = record
        self._credentials.pop(record.name, None)
        self._by_provider = None
        return True

    def delete_grant(self, name: str) -> None:
        self.grants.pop(name, None)
        self._credentials.pop(name, None)
        self._by_provider = None

    def set_policy(self, compiled: policy.CompiledPolicy) -> bool:
        """Apply a compiled policy; providers are compiled here, once, not per call."""
        if self.policy is not None and self.policy.get("digest") == compiled.get("digest"):
            return False
        self.providers = providers.compile_providers(compiled)
        self.policy = compiled
        return True

    def set_keyring(self, keyring: keys.Keyring) -> None:
        self.keyring = keyring

    def begin_resync(self) -> None:
        """A fresh snapshot follows (after ``410 Gone``): grants it does not mention are gone."""
        self._resync_seen = set()

    def mark_synced(self) -> None:
        if self._resync_seen is not None:
            for name in [n for n in self.grants if n not in self._resync_seen]:
                self.delete_grant(name)
            self._resync_seen = None
        self.synced = True

    # --- reads on the hot path -------------------------------------------------------------

    def grants_for_provider(self, provider: str, kind: str) -> list[str]:
        """Names of the grants of ``provider`` whose principal is of ``kind``."""
        if self._by_provider is None:
            index: dict[str, dict[str, list[str]]] = {}
            for record in self.grants.values():
                by_kind = index.setdefault(record.provider, {})
                by_kind.setdefault(record.principal_kind, []).append(record.name)
            for by_kind in index.values():
                for names in by_kind.values():
                    names.sort()
            self._by_provider = index
        return self._by_provider.get(provider, {}).get(kind, [])

    def cached_credential(self, record: records.GrantRecord) -> dict[str, str] | None:
        cached = self._credentials.get(record.name)
        if (
            cached is not None
            and cached.uid == record.uid
            and cached.version == record.version
            and cached.generation == record.generation
        ):
            return cached.fields
        return None

    def cache_credential(self, record: records.GrantRecord, fields: dict[str, str]) -> None:
        if self.grants.get(record.name) is record:
            self._credentials[record.name] = _CachedCredential(
                record.uid, record.version, record.generation, fields
            )
