"""Refreshing OAuth2 tokens: one refresh per grant per expiry, across every sidecar of the App.

Providers that rotate refresh tokens revoke the whole grant when an old refresh token comes back,
so two sidecars refreshing one grant at once destroy it. The protocol (docs/architecture.md):

1. **Single flight** in this process: one task per grant; every call that needs the refresh
   awaits that task (shielded, so a caller that goes away does not cancel it).
2. **Claim** through the control plane (``POST .../grants/{name}/claim``): a compare-and-swap on
   the grant record, decided with the control plane's clock, only for the generation we hold and
   only when no other holder's lease is running. The lease outlasts the token call's timeout.
3. The **winner** calls the token endpoint, seals the new credential with the App's active key and
   writes it back with the version its claim produced (``generation + 1``, claim cleared). A
   write after the lease was taken over fails instead of overwriting the newer refresh.
4. **Losers** wait on the watch stream for the new generation, at most until the lease ends, then
   try again (a killed holder blocks nobody beyond its lease).
5. ``invalid_grant``: read the record again first (another pod may have won); only then mark the
   grant ``NeedsReauth`` (compare-and-swap), audit ``grant.needs_reauth`` and answer callers
   ``401 reauthorization_required``.

A Grant with ``spec.credential.clientCredentials`` has no refresh token: its sealed credential
carries the ``grant_type: client_credentials`` marker (``tokens.obtained_by_client_credentials``)
and the winner of the claim obtains a new token with that grant instead, through the same steps.
``invalid_client`` / ``unauthorized_client`` make it ``NeedsReauth`` naming the Provider's client
settings, since only an admin can fix those.
6. Transient failures back off (exponential, with jitter) and release the claim; calls keep the
   current token until it really expires, then get ``503 refresh_unavailable`` with Retry-After.

Proactive refresh: a scheduler starts the refresh inside the Provider's ``refreshMarginSeconds``
before expiry (capped at half the token's observed lifetime, so short-lived tokens do not refresh
in a loop), later by a per-grant random jitter of up to a fifth of the margin, so sidecars and
grants do not all start at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import random
import time
import uuid
from dataclasses import dataclass

import aiohttp

from strongroom_core import audit, tokens
from strongroom_core.sealing import credentials as sealed_credentials
from strongroom_core.storage import records
from strongroom_sidecar import (
    audit_buffer,
    controlplane_client,
    credentials,
    logs,
    problems,
    state,
    token_endpoint,
)
from strongroom_sidecar import settings as settings_module

log = logs.get("refresh")

_SCAN_INTERVAL = 5.0
_JITTER_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class _Backoff:
    generation: int
    delay: float
    until: float
    """``time.monotonic()`` before which no new attempt is made."""
    reason: str


@dataclass(slots=True)
class RefreshStats:
    """Counters for metrics and tests (no labels, no names)."""

    token_calls: int = 0
    refreshed: int = 0
    claims_lost: int = 0
    transient_failures: int = 0
    needs_reauth: int = 0


class Refresher:
    def __init__(
        self,
        settings: settings_module.SidecarSettings,
        app: state.AppState,
        client: controlplane_client.ControlPlaneClient,
        creds: credentials.Credentials,
        audits: audit_buffer.AuditBuffer,
    ) -> None:
        self._settings = settings
        self._app = app
        self._client = client
        self._creds = creds
        self._audits = audits
        self.instance_id = settings.instance_id or f"{settings.caller}/{uuid.uuid4().hex[:12]}"
        """Who holds a claim taken by this sidecar (new on every start)."""
        self.stats = RefreshStats()
        self._flights: dict[str, asyncio.Task[records.GrantRecord]] = {}
        self._backoff: dict[str, _Backoff] = {}
        self._first_seen: dict[tuple[str, int], float] = {}
        self._jitter: dict[tuple[str, int], float] = {}
        self._endpoints: dict[str, token_endpoint.Endpoint] = {}
        self._endpoints_digest: str | None = None
        self._session: aiohttp.ClientSession | None = None
        self._scheduler: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._settings.refresh_timeout),
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
        )

    def start(self) -> None:
        self._scheduler = asyncio.create_task(self._schedule(), name="strongroom-refresh")

    async def close(self) -> None:
        tasks = [t for t in (self._scheduler, *self._flights.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._scheduler = None
        self._flights.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- what the proxy calls ----------------------------------------------------------------

    async def fresh(self, record: records.GrantRecord) -> tuple[records.GrantRecord, bool]:
        """The record whose token to use and whether this call waited for a refresh.

        Before the refresh is due: ``record`` at once (no I/O). Inside the margin: ``record``,
        with a refresh started in the background. Expired: waits for the refresh."""
        due = self._due(record)
        if due is None:
            return record, False
        now = time.time()
        if now < due:
            return record, False
        expires = record.token_expires_at
        if expires is not None and now < expires:
            self._start(record)
            return record, False
        self._check_backoff(record.name, record.generation)
        for _ in range(2):
            result = await self._join(record)
            if result.generation != record.generation:
                return result, True
            record = result
        raise problems.Refusal(
            "refresh_unavailable",
            f"grant {record.name!r}: the token has expired and was not refreshed; retry later",
            retry_after=1,
        )

    async def after_unauthorized(self, used: records.GrantRecord) -> records.GrantRecord | None:
        """The upstream answered 401 to ``used``'s token. A newer record to retry with, or
        ``None`` (pass the 401 on). Refreshes only if the stored record is still the generation
        that got the 401; a newer one is simply used."""
        current = self._app.grants.get(used.name)
        if current is None or current.state != "Ready":
            return None
        if current.generation != used.generation:
            return current
        if self._endpoint(current.provider) is None or self._backing_off(current):
            return None
        result = await self._join(current)
        return result if result.generation != used.generation else None

    # --- single flight -----------------------------------------------------------------------

    def _start(self, record: records.GrantRecord) -> None:
        if record.name not in self._flights and not self._backing_off(record):
            self._launch(record)

    async def _join(self, record: records.GrantRecord) -> records.GrantRecord:
        task = self._flights.get(record.name) or self._launch(record)
        return await asyncio.shield(task)

    def _launch(self, record: records.GrantRecord) -> asyncio.Task[records.GrantRecord]:
        name = record.name
        task = asyncio.create_task(
            self._run(name, record.generation), name=f"strongroom-refresh-{name}"
        )
        self._flights[name] = task
        task.add_done_callback(lambda done: self._landed(name, done))
        return task

    def _landed(self, name: str, task: asyncio.Task[records.GrantRecord]) -> None:
        if self._flights.get(name) is task:
            del self._flights[name]
        if not task.cancelled():
            task.exception()  # retrieved: a background refresh's failure is logged, not raised

    # --- the protocol ------------------------------------------------------------------------

    async def _run(self, name: str, generation: int) -> records.GrantRecord:
        while True:
            record = self._app.grants.get(name)
            if record is None:
                raise problems.Refusal("grant_not_found", f"grant {name!r} was deleted")
            if record.generation != generation and record.state == "Ready":
                return record
            if record.state == "NeedsReauth":
                raise _reauthorization_required(record)
            if record.state != "Ready":
                raise problems.Refusal(
                    "credential_unavailable", f"grant {name!r} is {record.state}; not refreshed"
                )
            endpoint = self._endpoint(record.provider)
            if endpoint is None:
                raise problems.Refusal(
                    "credential_unavailable",
                    f"provider {record.provider!r} has no oauth2 settings; nothing to refresh",
                )
            self._check_backoff(name, generation)
            if self._held_by_other(record, time.time()):
                await self._wait_for_holder(record, (record.claim_expires_at or 0) - time.time())
                continue
            try:
                claimed = await self._client.claim_grant(
                    name,
                    holder=self.instance_id,
                    lease_seconds=self._settings.refresh_lease,
                    generation=generation,
                )
            except controlplane_client.ClaimRefused as refused:
                self.stats.claims_lost += 1
                self._app.put_grant(refused.grant)
                if refused.code == "claim_held":
                    remaining = (refused.grant.claim_expires_at or 0) - refused.server_time
                    await self._wait_for_holder(refused.grant, remaining)
                continue
            except controlplane_client.ControlPlaneError as e:
                raise self._failed(
                    name, generation, f"the control plane did not take the claim ({e.status})"
                ) from None
            self._app.put_grant(claimed)
            return await self._refresh_claimed(claimed, endpoint)

    def _held_by_other(self, record: records.GrantRecord, now: float) -> bool:
        return (
            record.claim_holder is not None
            and record.claim_holder != self.instance_id
            and record.claim_expires_at is not None
            and record.claim_expires_at > now
        )

    async def _wait_for_holder(self, record: records.GrantRecord, remaining: float) -> None:
        """Wait on the watch stream for the holder's write, at most until its lease ends."""
        timeout = min(max(remaining, 0.0), self._settings.refresh_lease) + 0.05
        after = await self._app.wait_for_grant(record.name, record.version, timeout)
        if (
            after is not None
            and after.version > record.version
            and after.generation == record.generation
            and after.state == "Ready"
            and after.claim_holder is None
        ):
            # The holder released without a new token: the provider failed it. Back off here
            # too instead of calling a failing provider from every pod in turn.
            raise self._failed(
                record.name, record.generation, "another sidecar's refresh attempt failed"
            )

    async def _refresh_claimed(
        self, claimed: records.GrantRecord, endpoint: token_endpoint.Endpoint
    ) -> records.GrantRecord:
        lease_ends = time.monotonic() + self._settings.refresh_lease
        try:
            fields = await self._creds.open(claimed)
            secret = await self._client_secret(endpoint)
        except problems.Refusal as refusal:
            await self._release(claimed)
            raise self._failed(claimed.name, claimed.generation, refusal.detail) from None
        refresh_token = fields.get("refresh_token")
        by_client = tokens.obtained_by_client_credentials(fields)
        if not refresh_token and not by_client:
            return await self._no_refresh_token(claimed)
        assert self._session is not None, "Refresher.open() was not called"
        started = time.monotonic()
        try:
            token_endpoint.check_url(endpoint, self._settings.allow_loopback_targets)
            self.stats.token_calls += 1
            if refresh_token:
                credential = await token_endpoint.refresh(
                    self._session,
                    endpoint,
                    refresh_token=refresh_token,
                    client_secret=secret,
                    scopes=claimed.scopes,
                    seconds=self._settings.refresh_timeout,
                )
            else:
                credential = await token_endpoint.client_credentials(
                    self._session,
                    endpoint,
                    client_secret=secret,
                    scopes=claimed.scopes,
                    seconds=self._settings.refresh_timeout,
                )
        except (token_endpoint.InvalidGrant, token_endpoint.ClientRejected) as e:
            if by_client:
                return await self._client_refused(claimed, endpoint, e)
            if isinstance(e, token_endpoint.InvalidGrant):
                return await self._invalid_grant(claimed, endpoint)
            await self._release(claimed)
            raise self._failed(claimed.name, claimed.generation, str(e)) from None
        except token_endpoint.TokenEndpointError as e:
            await self._release(claimed)
            raise self._failed(claimed.name, claimed.generation, str(e)) from None
        latency = time.monotonic() - started
        written = await self._write_back(claimed, credential, lease_ends)
        if written.generation == claimed.generation + 1:
            self._backoff.pop(claimed.name, None)
            self.stats.refreshed += 1
            self._lifecycle(
                "grant.refreshed",
                written,
                endpoint,
                200,
                f"generation {written.generation}",
                latency_ms=round(latency * 1000.0, 3),
            )
            log.info(
                "grant refreshed",
                extra={"fields": {"grant": written.name, "generation": written.generation}},
            )
        return written

    async def _client_secret(self, endpoint: token_endpoint.Endpoint) -> str | None:
        if not endpoint.needs_secret:
            return None
        if endpoint.sealed_client_secret is None:
            raise problems.Refusal(
                "refresh_unavailable",
                f"provider {endpoint.provider!r} has no client secret in the compiled policy: "
                "its spec.oauth2.clientSecretRef could not be resolved (see the Provider's "
                "status)",
                retry_after=30,
            )
        try:
            return await self._creds.open_client_secret(
                endpoint.provider, endpoint.sealed_client_secret
            )
        except credentials.ClientSecretUnavailable as e:
            raise problems.Refusal("refresh_unavailable", str(e), retry_after=30) from None

    async def _write_back(
        self,
        claimed: records.GrantRecord,
        credential: dict[str, str],
        lease_ends: float,
    ) -> records.GrantRecord:
        """Write the new credential with the claim's fencing. On a conflict the record is read
        again: if nobody refreshed meanwhile (the generation is still ours and no other lease
        runs), write on the newer version; otherwise our refresh lost and the stored one wins."""
        base, expected, delay = claimed, claimed.version, 0.1
        while True:
            updated = self._refreshed_record(base, credential)
            try:
                written = await self._client.replace_grant(updated, expected)
            except controlplane_client.ControlPlaneError as e:
                if e.status == 409:
                    base = await self._reread_for_write_back(claimed)
                    if base.generation != claimed.generation:
                        return base
                    expected = base.version
                    continue
                if time.monotonic() + delay >= lease_ends:
                    log.error(
                        "refreshed credential could not be written back within the lease",
                        extra={"fields": {"grant": claimed.name, "error": str(e)}},
                    )
                    raise self._failed(
                        claimed.name, claimed.generation, "the control plane was unreachable"
                    ) from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            self._app.put_grant(written)
            self._app.cache_credential(written, credential)
            return written

    async def _reread_for_write_back(self, claimed: records.GrantRecord) -> records.GrantRecord:
        try:
            current = await self._client.get_grant(claimed.name)
        except controlplane_client.ControlPlaneError:
            raise self._failed(
                claimed.name, claimed.generation, "the write-back conflicted and a re-read failed"
            ) from None
        self._app.put_grant(current)
        if current.generation != claimed.generation or self._held_by_other(current, time.time()):
            log.error(
                "refresh write-back lost its claim; the stored credential wins",
                extra={"fields": {"grant": claimed.name, "generation": current.generation}},
            )
            if current.generation == claimed.generation:
                raise self._failed(claimed.name, claimed.generation, "the claim was taken over")
        return current

    def _refreshed_record(
        self, base: records.GrantRecord, credential: dict[str, str]
    ) -> records.GrantRecord:
        keyring = self._app.keyring
        assert keyring is not None, "a credential was opened, so keys are there"
        return dataclasses.replace(
            base,
            sealed=sealed_credentials.seal_for_record(keyring.active, base, credential),
            generation=base.generation + 1,
            token_expires_at=tokens.expires_at_of(credential),
            state="Ready",
            message="",
            claim_holder=None,
            claim_expires_at=None,
        )

    async def _invalid_grant(
        self, claimed: records.GrantRecord, endpoint: token_endpoint.Endpoint
    ) -> records.GrantRecord:
        message = (
            "the provider refused the refresh token (invalid_grant); authorize the grant again"
        )
        return await self._mark_needs_reauth(claimed, endpoint, message)

    async def _client_refused(
        self,
        claimed: records.GrantRecord,
        endpoint: token_endpoint.Endpoint,
        error: token_endpoint.TokenEndpointError,
    ) -> records.GrantRecord:
        """The client credentials grant was refused: the Provider's client is wrong (or not
        allowed this grant type), which no user can fix and no retry will. The Grant starts
        again when the operator reconciles it with changed client settings."""
        code = error.code if isinstance(error, token_endpoint.ClientRejected) else "invalid_grant"
        message = (
            f"the provider refused the client credentials of Provider {endpoint.provider!r} "
            f"({code}); an admin must fix its spec.oauth2.clientId or clientSecretRef Secret"
        )
        return await self._mark_needs_reauth(claimed, endpoint, message, reason=code)

    async def _no_refresh_token(self, claimed: records.GrantRecord) -> records.GrantRecord:
        endpoint = self._endpoint(claimed.provider)
        expires = claimed.token_expires_at
        if endpoint is not None and (expires is None or time.time() >= expires):
            message = "the stored credential has no refresh token; authorize the grant again"
            return await self._mark_needs_reauth(claimed, endpoint, message)
        await self._release(claimed)
        # Nothing to do until it expires; then the grant needs a new authorization.
        until = time.monotonic() + max(0.0, (expires or 0) - time.time())
        self._backoff[claimed.name] = _Backoff(
            claimed.generation, self._settings.refresh_backoff_max, until, "no refresh token"
        )
        raise problems.Refusal(
            "refresh_unavailable", f"grant {claimed.name!r} has no refresh token", retry_after=1
        )

    async def _mark_needs_reauth(
        self,
        claimed: records.GrantRecord,
        endpoint: token_endpoint.Endpoint,
        message: str,
        *,
        reason: str = "invalid_grant",
    ) -> records.GrantRecord:
        """Re-read first: a newer generation (another pod refreshed) is used, not condemned."""
        for _ in range(3):
            try:
                current = await self._client.get_grant(claimed.name)
            except controlplane_client.ControlPlaneError as e:
                await self._release(claimed)
                raise self._failed(
                    claimed.name, claimed.generation, f"re-read failed ({e.status})"
                ) from None
            self._app.put_grant(current)
            if current.state == "NeedsReauth":
                raise _reauthorization_required(current)
            if current.generation != claimed.generation and current.state == "Ready":
                log.info(
                    "invalid_grant, but another sidecar had refreshed already; using its token",
                    extra={"fields": {"grant": current.name, "generation": current.generation}},
                )
                return current
            updated = dataclasses.replace(
                current,
                state="NeedsReauth",
                message=message,
                claim_holder=None,
                claim_expires_at=None,
            )
            try:
                written = await self._client.replace_grant(updated, current.version)
            except controlplane_client.ControlPlaneError as e:
                if e.status == 409:
                    continue
                raise self._failed(
                    claimed.name, claimed.generation, f"could not mark NeedsReauth ({e.status})"
                ) from None
            self._app.put_grant(written)
            self.stats.needs_reauth += 1
            self._lifecycle("grant.needs_reauth", written, endpoint, 401, reason)
            log.warning("grant needs reauthorization", extra={"fields": {"grant": written.name}})
            raise _reauthorization_required(written)
        raise self._failed(claimed.name, claimed.generation, "the grant kept changing")

    async def _release(self, claimed: records.GrantRecord) -> None:
        """Give the claim back early (best effort; the lease ends it anyway)."""
        released = dataclasses.replace(claimed, claim_holder=None, claim_expires_at=None)
        try:
            self._app.put_grant(await self._client.replace_grant(released, claimed.version))
        except controlplane_client.ControlPlaneError as e:
            log.info(
                "refresh claim not released; its lease ends it",
                extra={"fields": {"grant": claimed.name, "status": e.status}},
            )

    # --- backoff -----------------------------------------------------------------------------

    def _failed(self, name: str, generation: int, reason: str) -> problems.Refusal:
        self.stats.transient_failures += 1
        previous = self._backoff.get(name)
        delay = self._settings.refresh_backoff_initial
        if previous is not None and previous.generation == generation:
            delay = min(previous.delay * 2, self._settings.refresh_backoff_max)
        pause = delay * (0.5 + random.random())  # noqa: S311 - jitter, not security
        self._backoff[name] = _Backoff(generation, delay, time.monotonic() + pause, reason)
        log.warning(
            "refresh failed; backing off",
            extra={"fields": {"grant": name, "reason": reason, "retry_in": round(pause, 2)}},
        )
        return _refresh_unavailable(name, reason, pause)

    def _backing_off(self, record: records.GrantRecord) -> bool:
        backoff = self._backoff.get(record.name)
        return (
            backoff is not None
            and backoff.generation == record.generation
            and time.monotonic() < backoff.until
        )

    def _check_backoff(self, name: str, generation: int) -> None:
        backoff = self._backoff.get(name)
        if backoff is None or backoff.generation != generation:
            return
        remaining = backoff.until - time.monotonic()
        if remaining > 0:
            raise _refresh_unavailable(name, backoff.reason, remaining)

    # --- when ----------------------------------------------------------------------------------

    def _endpoint(self, provider: str) -> token_endpoint.Endpoint | None:
        compiled = self._app.policy
        if compiled is None:
            return None
        if compiled.get("digest") != self._endpoints_digest:
            self._endpoints = {}
            for name, wire in (compiled.get("providers") or {}).items():
                oauth2 = wire.get("oauth2")
                if oauth2 is not None:
                    with contextlib.suppress(KeyError, TypeError, ValueError):
                        self._endpoints[name] = token_endpoint.Endpoint.from_policy(name, oauth2)
            self._endpoints_digest = compiled.get("digest")
        return self._endpoints.get(provider)

    def _due(self, record: records.GrantRecord) -> float | None:
        """When this sidecar starts refreshing ``record`` (unix seconds), or ``None`` if never."""
        expires = record.token_expires_at
        if expires is None or record.state != "Ready":
            return None
        endpoint = self._endpoint(record.provider)
        if endpoint is None:
            return None
        key = (record.name, record.generation)
        seen = self._first_seen.get(key)
        if seen is None:
            seen = self._first_seen[key] = time.time()
        margin = min(endpoint.margin_seconds, max(0.0, expires - seen) / 2)
        jitter = self._jitter.get(key)
        if jitter is None:
            jitter = self._jitter[key] = random.uniform(0.0, margin * _JITTER_SHARE)  # noqa: S311
        return expires - margin + jitter

    async def _schedule(self) -> None:
        """Proactive refresh: start each grant's refresh when it is due."""
        while True:
            wait = _SCAN_INTERVAL
            if self._app.ready:
                now = time.time()
                for record in list(self._app.grants.values()):
                    due = self._due(record)
                    if due is None:
                        continue
                    if due > now:
                        wait = min(wait, due - now)
                    elif self._held_by_other(record, now) or self._backing_off(record):
                        wait = min(wait, 1.0)
                    else:
                        self._start(record)
                self._forget_old_generations()
            self._app.grant_changed.clear()
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation
            # that arrives as the event is set, and this loop would then never stop (close()
            # hung waiting for it).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(wait, 0.05)):
                    await self._app.grant_changed.wait()

    def _forget_old_generations(self) -> None:
        current = {(r.name, r.generation) for r in self._app.grants.values()}
        for table in (self._first_seen, self._jitter):
            for key in [k for k in table if k not in current]:
                del table[key]

    # --- audit ---------------------------------------------------------------------------------

    def _lifecycle(
        self,
        kind: audit.EventKind,
        record: records.GrantRecord,
        endpoint: token_endpoint.Endpoint,
        status: int,
        reason: str,
        *,
        latency_ms: float = 0.0,
    ) -> None:
        event: audit.AuditEvent = {
            "id": audit.new_event_id(),
            "time": audit.now(),
            "kind": kind,
            "namespace": record.namespace,
            "app": record.app,
            "caller": self._settings.caller,
            "principal": f"{record.principal_kind}:{record.principal_id}",
            "grant": record.name,
            "provider": record.provider,
            "method": "POST",
            "host": token_endpoint.host_of(endpoint.token_url),
            "path": "",
            "status": status,
            "latency_ms": latency_ms,
            "decision": "allow" if status < 400 else "deny",
            "reason": reason,
            "refreshed": kind == "grant.refreshed",
            "trace_id": "",
        }
        self._audits.record(event)


def _refresh_unavailable(name: str, reason: str, pause: float) -> problems.Refusal:
    return problems.Refusal(
        "refresh_unavailable",
        f"grant {name!r}: the token could not be refreshed ({reason}); the next attempt is in "
        f"{pause:.1f}s",
        retry_after=max(1, math.ceil(pause)),
    )


def _reauthorization_required(record: records.GrantRecord) -> problems.Refusal:
    return problems.Refusal(
        "reauthorization_required",
        f"grant {record.name!r} needs to be authorized again"
        + (f": {record.message[:200]}" if record.message else ""),
    )
