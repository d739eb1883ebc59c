"""The watch loop: keeps :class:`state.AppState` in step with the control plane.

Reconnects with exponential backoff and jitter, resumes from the last applied revision, and on
``410 Gone`` starts over from a full snapshot (grants the snapshot does not mention are then
dropped). A ``KEYS`` event makes it fetch the App keys again.
"""

from __future__ import annotations

import asyncio
import random

from strongroom_core import policy, protocol
from strongroom_sidecar import controlplane_client, credentials, logs, metrics, state

log = logs.get("watch")


class Watcher:
    def __init__(
        self,
        app: state.AppState,
        client: controlplane_client.ControlPlaneClient,
        creds: credentials.Credentials,
        counters: metrics.Metrics,
        *,
        retry_max: float,
    ) -> None:
        self._app = app
        self._client = client
        self._creds = creds
        self._metrics = counters
        self._retry_max = retry_max

    async def run(self) -> None:
        """Run until cancelled."""
        backoff = 0.1
        while True:
            try:
                if self._app.keyring is None:
                    await self._creds.refresh_keys()
                async for event in self._client.watch(self._app.revision):
                    if not self._metrics.watch_connected:
                        self._metrics.watch_connected = True
                        log.info("watch connected", extra={"fields": {"since": self._app.revision}})
                    backoff = 0.1
                    await self.apply(event)
                log.info("watch stream ended; reconnecting")
            except controlplane_client.WatchGone:
                log.warning("watch revision gone; resyncing from a snapshot")
                self._app.revision = 0
                self._app.begin_resync()
                backoff = 0.1
            except controlplane_client.ControlPlaneError as e:
                log.warning("control plane unavailable", extra={"fields": {"error": str(e)}})
            finally:
                if self._metrics.watch_connected:
                    self._metrics.watch_connected = False
                    self._metrics.watch_reconnects += 1
            await asyncio.sleep(backoff * (0.5 + random.random()))  # noqa: S311 - jitter
            backoff = min(backoff * 2, self._retry_max)

    async def apply(self, event: protocol.WatchEvent) -> None:
        kind = event["type"]
        if kind == "GRANT" and "grant" in event:
            try:
                record = protocol.grant_from_wire(event["grant"])
            except protocol.WireFormatError as e:
                log.error("malformed grant event skipped", extra={"fields": {"error": str(e)}})
            else:
                self._app.put_grant(record)
        elif kind == "GRANT_DELETED" and "name" in event:
            self._app.delete_grant(event["name"])
        elif kind == "POLICY" and "policy" in event:
            compiled: policy.CompiledPolicy = event["policy"]  # type: ignore[assignment]
            if self._app.set_policy(compiled):
                log.info(
                    "policy applied",
                    extra={
                        "fields": {
                            "digest": compiled.get("digest", ""),
                            "providers": sorted(self._app.providers),
                        }
                    },
                )
        elif kind == "KEYS":
            await self._creds.refresh_keys()
        elif kind == "SYNCED":
            first = not self._app.synced
            self._app.mark_synced()
            if first:
                log.info("synced", extra={"fields": {"grants": len(self._app.grants)}})
        revision = int(event.get("revision", 0))
        if revision > self._app.revision:
            self._app.revision = revision
