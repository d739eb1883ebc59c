"""Opening a grant's credential (and a Provider's sealed client secret, for refresh) with the
App keyring, cached until the record (or the sealed value) changes.

A blob sealed with a key this sidecar has not seen means the App key was rotated: fetch the
keys again (one fetch at a time, shared by every waiting call) and retry once; no restart.
"""

from __future__ import annotations

import asyncio

from strongroom_core.sealing import credentials, errors, providersecrets
from strongroom_core.storage import records
from strongroom_sidecar import controlplane_client, logs, metrics, problems, state

log = logs.get("credentials")


class Credentials:
    def __init__(
        self,
        app: state.AppState,
        client: controlplane_client.ControlPlaneClient,
        counters: metrics.Metrics,
    ) -> None:
        self._app = app
        self._client = client
        self._metrics = counters
        self._fetch: asyncio.Task[None] | None = None
        self._client_secrets: dict[tuple[str, str], str] = {}

    async def refresh_keys(self) -> None:
        """Fetch the App's keys; concurrent callers share one fetch."""
        if self._fetch is None or self._fetch.done():
            self._fetch = asyncio.create_task(self._fetch_keys())
        await asyncio.shield(self._fetch)

    async def _fetch_keys(self) -> None:
        self._metrics.key_fetches += 1
        keyring = await self._client.fetch_keys()
        self._app.set_keyring(keyring)
        log.info("app keys fetched", extra={"fields": {"kids": keyring.kids()}})

    async def close(self) -> None:
        if self._fetch is not None and not self._fetch.done():
            self._fetch.cancel()
            await asyncio.gather(self._fetch, return_exceptions=True)

    async def open(self, record: records.GrantRecord) -> dict[str, str]:
        """The plaintext fields of ``record``'s credential, or ``credential_unavailable``."""
        cached = self._app.cached_credential(record)
        if cached is not None:
            return cached
        try:
            fields = self._open(record)
        except errors.UnknownKeyError as e:
            log.info(
                "credential sealed with an unknown key; fetching keys",
                extra={"fields": {"grant": record.name, "kid": e.kid}},
            )
            try:
                await self.refresh_keys()
            except controlplane_client.ControlPlaneError as fetch_error:
                raise problems.Refusal(
                    "credential_unavailable",
                    f"grant {record.name!r} is sealed with key {e.kid!r} and the App keys "
                    f"could not be fetched ({fetch_error.status or 'unreachable'})",
                ) from None
            try:
                fields = self._open(record)
            except errors.SealingError as again:
                raise _unavailable(record, again) from None
        except errors.SealingError as e:
            raise _unavailable(record, e) from None
        self._app.cache_credential(record, fields)
        return fields

    def _open(self, record: records.GrantRecord) -> dict[str, str]:
        keyring = self._app.keyring
        if keyring is None:
            raise errors.UnknownKeyError("-", "no App keys yet")
        return credentials.open_grant_credential(keyring, record)

    async def open_client_secret(self, provider: str, sealed: str) -> str:
        """The client secret a Provider's compiled policy carries sealed; ``RefreshBlocked``
        naming the field when it cannot be opened."""
        cached = self._client_secrets.get((provider, sealed))
        if cached is not None:
            return cached
        for attempt in (1, 2):
            keyring = self._app.keyring
            try:
                if keyring is None:
                    raise errors.UnknownKeyError("-", "no App keys yet")
                secret = providersecrets.open_client_secret(
                    keyring,
                    sealed,
                    namespace=self._app.namespace,
                    app=self._app.app,
                    provider=provider,
                )
            except errors.UnknownKeyError:
                if attempt == 2:
                    break
                try:
                    await self.refresh_keys()
                except controlplane_client.ControlPlaneError:
                    break
                continue
            except errors.SealingError as e:
                raise ClientSecretUnavailable(
                    f"provider {provider!r}: oauth2.clientSecretSealed could not be opened "
                    f"({type(e).__name__}); the operator must compile the policy again"
                ) from None
            self._client_secrets = {
                k: v for k, v in self._client_secrets.items() if k[0] != provider
            }
            self._client_secrets[(provider, sealed)] = secret
            return secret
        raise ClientSecretUnavailable(
            f"provider {provider!r}: oauth2.clientSecretSealed is sealed with a key this sidecar "
            "could not fetch; retry later"
        )


class ClientSecretUnavailable(Exception):
    """The Provider's sealed client secret cannot be opened. The message names the field."""


def _unavailable(record: records.GrantRecord, error: errors.SealingError) -> problems.Refusal:
    # Sealing messages name key ids and fields only, never material or plaintext.
    log.error(
        "credential could not be opened",
        extra={"fields": {"grant": record.name, "error": type(error).__name__}},
    )
    return problems.Refusal(
        "credential_unavailable",
        f"grant {record.name!r}: the sealed credential could not be opened "
        f"({type(error).__name__}); re-seal or re-import it",
    )
