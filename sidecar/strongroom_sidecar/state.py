"""The App's state as this sidecar knows it: compiled policy, grant records, keyring.

Filled only from the control plane's watch stream and key release; read by every call without
I/O. Updates are idempotent by record version, so a replayed event after a reconnect changes
nothing. Opened credentials are cached per grant and dropped as soon as the record changes
(new version means new sealed value, new state or new expiry).

Refresh waits on this state: :meth:`AppState.wait_for_grant` returns when a grant's record
changes (a refresh done by another sidecar arrives on the watch stream), and ``grant_changed``
wakes the proactive refresh scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from strongroom_core import policy, rules
from strongroom_core.sealing import keys
from strongroom_core.storage import records
from strongroom_sidecar import agents, providers


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
        self.rules: rules.CompiledRules | None = None
        """The policy's rules, compiled once per policy update (limit counts carried over)."""
        self.agents: agents.Agents = agents.EMPTY
        """The App's agents and their key hashes, compiled once per policy update."""
        self.grants: dict[str, records.GrantRecord] = {}
        self.keyring: keys.Keyring | None = None
        self.revision = 0
        """Revision of the last applied watch event: where a reconnect resumes."""
        self.synced = False
        """A complete snapshot has been applied at least once (SYNCED seen)."""
        self._resync_seen: set[str] | None = None
        self._credentials: dict[str, _CachedCredential] = {}
        self._by_provider: dict[str, dict[str, list[str]]] | None = None
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self.grant_changed = asyncio.Event()
        """Set whenever a grant record is applied or removed (the refresh scheduler clears it)."""

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
        self._wake(record.name)
        return True

    def delete_grant(self, name: str) -> None:
        self.grants.pop(name, None)
        self._credentials.pop(name, None)
        self._by_provider = None
        self._wake(name)

    def _wake(self, name: str) -> None:
        self.grant_changed.set()
        for waiter in self._waiters.pop(name, ()):
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for_grant(
        self, name: str, newer_than: int, within: float
    ) -> records.GrantRecord | None:
        """The grant's record once its version is above ``newer_than`` (or it is gone: ``None``),
        waiting at most ``within`` seconds; on timeout, the record as it is then."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, within)
        while True:
            current = self.grants.get(name)
            if current is None or current.version > newer_than:
                return current
            remaining = deadline - loop.time()
            if remaining <= 0:
                return current
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(name, []).append(waiter)
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await waiter
            finally:
                waiting = self._waiters.get(name)
                if waiting is not None and waiter in waiting:
                    waiting.remove(waiter)

    def set_policy(self, compiled: policy.CompiledPolicy) -> bool:
        """Apply a compiled policy; providers are compiled here, once, not per call."""
        if self.policy is not None and self.policy.get("digest") == compiled.get("digest"):
            return False
        self.providers = providers.compile_providers(compiled)
        self.rules = rules.compile_policy(compiled, previous=self.rules)
        self.agents = agents.Agents.compile(compiled.get("agents"))
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
