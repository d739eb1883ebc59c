"""The sidecar's only channel out besides the upstream call: the control-plane protocol.

Key release, the App's watch stream, audit ingest, and for refresh: reading one grant, the
refresh claim and the compare-and-swap write-back. Every call carries the bearer token read
fresh from settings, so a projected token the kubelet rotated is picked up without a restart.
Error messages carry the status and the control plane's problem ``code``/``detail``, never the
token.
"""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import quote

import aiohttp

from strongroom_core import protocol
from strongroom_core.sealing import keys
from strongroom_core.storage import records
from strongroom_sidecar import settings as settings_module

MAX_WATCH_LINE = 16 * 1024 * 1024


class ControlPlaneError(Exception):
    """The control plane failed or refused a call. ``status`` is ``0`` when it was not
    reached."""

    def __init__(self, what: str, status: int, detail: str, code: str = "") -> None:
        super().__init__(f"{what}: {status or 'unreachable'} {code} {detail}".strip())
        self.status = status
        self.code = code


class WatchGone(ControlPlaneError):
    """``410 Gone``: the revision to resume from is no longer kept; resync from scratch."""


class ClaimRefused(ControlPlaneError):
    """``409`` on a refresh claim: ``code`` is ``claim_held``, ``generation_changed`` or
    ``not_refreshable``; ``grant`` is the record as stored and ``server_time`` the control
    plane's clock when it decided (to wait for a lease without trusting our own clock)."""

    def __init__(
        self, detail: str, code: str, grant: records.GrantRecord, server_time: float
    ) -> None:
        super().__init__("refresh claim", 409, detail, code)
        self.grant = grant
        self.server_time = server_time


class ControlPlaneClient:
    def __init__(self, settings: settings_module.SidecarSettings) -> None:
        self._settings = settings
        self._base = settings.control_plane_url.rstrip("/") + protocol.CONTROL_PLANE_PREFIX
        self._app_path = (
            f"/apps/{quote(settings.namespace, safe='')}/{quote(settings.app, safe='')}"
        )
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        ssl_context: ssl.SSLContext | bool = True
        if self._settings.control_plane_ca_file:
            ssl_context = ssl.create_default_context(cafile=self._settings.control_plane_ca_file)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=ssl_context, limit=16),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=None),
            raise_for_status=False,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        token = self._settings.read_control_plane_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("ControlPlaneClient.open() was not called")
        return self._session

    async def _json(
        self,
        what: str,
        method: str,
        path: str,
        body: Any = None,
        seconds: float = 15.0,
        *,
        encoded: bytes | None = None,
    ) -> Any:
        """One JSON call: ``body`` is encoded here, or ``encoded`` is sent as it is."""
        request_headers = self._headers()
        if encoded is not None:
            request_headers["Content-Type"] = "application/json"
        try:
            async with self._client().request(
                method,
                self._base + path,
                json=body,
                data=encoded,
                headers=request_headers,
                timeout=aiohttp.ClientTimeout(total=seconds),
            ) as response:
                text = await response.text()
                if response.status >= 300:
                    raise _error(what, response.status, text)
                return json.loads(text) if text else None
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise ControlPlaneError(what, 0, type(e).__name__) from None
        except ValueError:
            raise ControlPlaneError(what, 200, "answer is not JSON") from None

    async def fetch_keys(self) -> keys.Keyring:
        """Key release: the App's data keys (memory only)."""
        body = await self._json("key release", "GET", self._app_path + "/keys")
        try:
            wires = body["keys"]
            data_keys = [
                keys.DataKey(kid=str(w["kid"]), material=base64.b64decode(w["key"])) for w in wires
            ]
            active = next((str(w["kid"]) for w in wires if w.get("active")), None)
            if active is None:
                raise ValueError("no active key")
            return keys.Keyring(data_keys, active)
        except (KeyError, TypeError, ValueError) as e:
            # The message of a decoding error never includes key material: only the field.
            raise ControlPlaneError("key release", 200, f"malformed answer ({e})") from None

    async def watch(self, since: int) -> AsyncIterator[protocol.WatchEvent]:
        """The App's watch stream from ``since`` (0: a full snapshot, then ``SYNCED``), one JSON
        event per line. Ends when the server closes the stream; raises :class:`WatchGone` on 410."""
        url = f"{self._base}{self._app_path}/watch"
        try:
            async with self._client().get(
                url,
                params={"since": str(since)},
                headers=self._headers(),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=90),
            ) as response:
                if response.status >= 300:
                    raise _error("watch", response.status, await response.text())
                buffer = b""
                async for chunk in response.content.iter_any():
                    buffer += chunk
                    if len(buffer) > MAX_WATCH_LINE:
                        raise ControlPlaneError("watch", 200, "event line too long")
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if line.strip():
                            yield _event(line)
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise ControlPlaneError("watch", 0, type(e).__name__) from None

    async def post_audit(self, events: Sequence[bytes]) -> protocol.AuditIngestResponse:
        """Audit ingest (``protocol.AuditIngestRequest``). ``events`` are already JSON, one
        ``audit.AuditEvent`` each (the buffer encodes an event once, when it is committed), so a
        batch is joined, not copied and encoded again while the event loop waits."""
        body = b'{"events":[' + b",".join(events) + b"]}"
        answer = await self._json("audit ingest", "POST", "/audit", encoded=body)
        return {"accepted": int(answer.get("accepted", 0)), "stored": int(answer.get("stored", 0))}

    async def replace_grant(
        self, record: records.GrantRecord, expected_version: int
    ) -> records.GrantRecord:
        """Compare-and-swap write of a grant record (refresh write-back and claims). A lost race
        raises :class:`ControlPlaneError` with status 409."""
        body: protocol.ReplaceGrantRequest = {
            "grant": protocol.grant_to_wire(record),
            "expectedVersion": expected_version,
        }
        answer = await self._json("grant write", "PUT", self._grant_path(record.name), body)
        return protocol.grant_from_wire(answer.get("grant", answer))

    def _grant_path(self, name: str) -> str:
        return f"{self._app_path}/grants/{quote(name, safe='')}"

    async def get_grant(self, name: str) -> records.GrantRecord:
        """The grant as stored now (the watch stream may lag behind)."""
        answer = await self._json("grant read", "GET", self._grant_path(name))
        return _grant_of("grant read", answer)

    async def claim_grant(
        self, name: str, *, holder: str, lease_seconds: float, generation: int
    ) -> records.GrantRecord:
        """Take the refresh claim of ``generation``; the claimed record (write back with its
        ``version``). Raises :class:`ClaimRefused` when another sidecar holds it or the grant
        moved on, :class:`ControlPlaneError` otherwise."""
        body = {"holder": holder, "leaseSeconds": lease_seconds, "generation": generation}
        try:
            async with self._client().post(
                self._base + self._grant_path(name) + "/claim",
                json=body,
                headers=self._headers(),
                timeout=aiohttp.ClientTimeout(total=15.0),
            ) as response:
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise ControlPlaneError("refresh claim", 0, type(e).__name__) from None
        if response.status == 409:
            try:
                problem = json.loads(text)
                grant = protocol.grant_from_wire(problem["grant"])
                server_time = float(problem["serverTime"])
            except (ValueError, KeyError, TypeError):
                raise _error("refresh claim", 409, text) from None
            raise ClaimRefused(
                str(problem.get("detail", ""))[:200],
                str(problem.get("code", "")),
                grant,
                server_time,
            )
        if response.status >= 300:
            raise _error("refresh claim", response.status, text)
        try:
            answer = json.loads(text)
        except ValueError:
            raise ControlPlaneError("refresh claim", 200, "answer is not JSON") from None
        return _grant_of("refresh claim", answer)


def _grant_of(what: str, answer: Any) -> records.GrantRecord:
    try:
        return protocol.grant_from_wire(answer.get("grant") if isinstance(answer, dict) else None)
    except protocol.WireFormatError as e:
        raise ControlPlaneError(what, 200, f"malformed answer ({e})") from None


def _event(line: bytes) -> protocol.WatchEvent:
    try:
        event = json.loads(line)
    except ValueError:
        raise ControlPlaneError("watch", 200, "event is not JSON") from None
    if not isinstance(event, dict) or "type" not in event:
        raise ControlPlaneError("watch", 200, "event without a type")
    return event  # type: ignore[return-value]


def _error(what: str, status: int, text: str) -> ControlPlaneError:
    code, detail = "", text[:200]
    try:
        problem = json.loads(text)
        code, detail = str(problem.get("code", "")), str(problem.get("detail", ""))[:200]
    except (ValueError, AttributeError):
        pass
    cls = WatchGone if status == 410 else ControlPlaneError
    return cls(what, status, detail, code)
