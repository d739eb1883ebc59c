"""``ForwardingAuditStore``: the audit store of a control-plane replica without the audit
volume — it hands every event and query to the one collector replica over HTTPS.

Until PostgreSQL arrives the SQLite collector is one process with a volume, while the control
plane runs several replicas that all take sidecar calls (and refuse callers, which is audited
too). So exactly one replica runs with ``--audit-db PATH`` and the others with ``--audit-url``
pointing at it (its own Service); they forward ``POST /v1/audit`` and ``GET /v1/audit`` as an
admin, authenticated with their own projected token (audience ``strongroom``), which the
collector accepts because the control plane's ServiceAccount is in its ``--admin-user`` list.
A collector outage makes ingest answer 503 and sidecars keep events in their buffers.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from strongroom_core.storage import records
from strongroom_operator.controlplane import problems


class AuditForwardingError(problems.ProblemError):
    """The collector could not take or answer the call (503 ``unavailable`` to this replica's
    caller, who retries); never carries a token or an event."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, "unavailable", detail, headers={"Retry-After": "2"})


class ForwardingAuditStore:
    def __init__(
        self, url: str, token_file: Path, *, ca_file: Path | None = None, timeout: float = 10
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"--audit-url {url!r}: expected an https URL of the audit collector")
        self.url = url.rstrip("/")
        self.token_file = token_file
        self.ca_file = ca_file
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"ForwardingAuditStore({self.url!r})"

    async def open(self) -> None:
        if self._session is None:
            context: ssl.SSLContext | bool = False
            if self.url.startswith("https://"):
                context = ssl.create_default_context(
                    cafile=str(self.ca_file) if self.ca_file else None
                )
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=context),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            )

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _headers(self) -> dict[str, str]:
        # Re-read per call: the kubelet rotates projected tokens.
        token = self.token_file.read_text(encoding="utf-8").strip()
        return {"Authorization": f"Bearer {token}"}

    async def _call(
        self, method: str, params: dict[str, str] | None = None, body: Any = None
    ) -> dict[str, Any]:
        if self._session is None:
            await self.open()
        assert self._session is not None
        try:
            async with self._session.request(
                method, f"{self.url}/v1/audit", params=params, json=body, headers=self._headers()
            ) as response:
                text = await response.text()
                if response.status >= 400:
                    raise AuditForwardingError(
                        f"audit collector {self.url} answered {response.status}:"
                        f" {_problem_code(text)}"
                    )
                answer = json.loads(text)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as e:
            raise AuditForwardingError(
                f"audit collector {self.url} unreachable ({type(e).__name__})"
            ) from None
        if not isinstance(answer, dict):
            raise AuditForwardingError(f"audit collector {self.url}: answer is not an object")
        return answer

    async def append_audit(self, events: Sequence[dict[str, Any]]) -> int:
        answer = await self._call("POST", body={"events": list(events)})
        return int(answer.get("stored", 0))

    async def query_audit(self, query: records.AuditQuery) -> list[dict[str, Any]]:
        params = {"limit": str(query.limit), **query.extra}
        for name in ("namespace", "app", "grant"):
            value = getattr(query, name)
            if value:
                params[name] = value
        events = (await self._call("GET", params=params)).get("events")
        return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def _problem_code(text: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        return "no problem document"
    return str(document.get("code", "?")) if isinstance(document, dict) else "?"
