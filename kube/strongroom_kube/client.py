"""A small Kubernetes API client on aiohttp: JSON requests with the bearer token re-read per
call, errors by HTTP status carrying the API server's ``Status`` reason, and watch streams.

Error tree::

    ApiError (status, reason; message from the server's Status, truncated)
    ├── NotFound        404
    ├── Conflict        409 reason Conflict (stale resourceVersion)
    ├── AlreadyExists   409 reason AlreadyExists
    └── Gone            410 (resourceVersion compacted away)

No request body is ever quoted in an error: the bodies carry sealed records and TLS keys.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp

from strongroom_kube import config

MERGE_PATCH = "application/merge-patch+json"
_MAX_MESSAGE = 300


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"Kubernetes API answered {status} {reason}: {message[:_MAX_MESSAGE]}")
        self.status = status
        self.reason = reason


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    pass


class AlreadyExists(ApiError):
    pass


class Gone(ApiError):
    pass


def error_from(status: int, body: Any) -> ApiError:
    reason = str(body.get("reason", "")) if isinstance(body, dict) else ""
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    if status == 404:
        return NotFound(status, reason or "NotFound", message)
    if status == 409:
        kind = AlreadyExists if reason == "AlreadyExists" else Conflict
        return kind(status, reason or "Conflict", message)
    if status == 410:
        return Gone(status, reason or "Gone", message)
    return ApiError(status, reason or "Error", message)


class KubeClient:
    """Open with ``async with`` or ``await open()``; one session, reused."""

    def __init__(self, cluster: config.ClusterConfig, *, request_timeout: float = 30) -> None:
        self.cluster = cluster
        self.request_timeout = request_timeout
        self._session: aiohttp.ClientSession | None = None
        self._streams: set[aiohttp.ClientResponse] = set()

    def __repr__(self) -> str:
        return f"KubeClient({self.cluster.server!r})"

    async def open(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(ssl=self.cluster.ssl_context())
            self._session = aiohttp.ClientSession(connector=connector)

    async def close(self) -> None:
        """Also ends every open watch (its reader sees the connection closed)."""
        for response in list(self._streams):
            response.close()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> KubeClient:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _headers(self, content_type: str | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        token = self.cluster.read_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def _session_or_fail(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError(f"{self!r} is not open: await open() first")
        return self._session

    async def get(self, path: str) -> dict[str, Any]:
        return await self.request("GET", path)

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.request("POST", path, body=body)

    async def replace(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT: with ``metadata.resourceVersion`` set, a stale write is :class:`Conflict`."""
        return await self.request("PUT", path, body=body)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        session = self._session_or_fail()
        data = None if body is None else json.dumps(body).encode("utf-8")
        async with session.request(
            method,
            self.cluster.server + path,
            params=params,
            data=data,
            headers=self._headers(content_type if data is not None else None),
            timeout=aiohttp.ClientTimeout(total=self.request_timeout),
        ) as response:
            payload = await _json(response)
            if response.status >= 400:
                raise error_from(response.status, payload)
            if not isinstance(payload, dict):
                raise ApiError(response.status, "BadResponse", "the answer is not a JSON object")
            return payload

    async def watch(
        self, path: str, params: Mapping[str, str], timeout_seconds: int
    ) -> AsyncIterator[dict[str, Any]]:
        """The events of one watch request, as decoded JSON lines, until the server ends it
        (``timeoutSeconds``) or the client is closed."""
        session = self._session_or_fail()
        query = {**params, "watch": "true", "timeoutSeconds": str(timeout_seconds)}
        async with session.get(
            self.cluster.server + path,
            params=query,
            headers=self._headers(),
            timeout=aiohttp.ClientTimeout(total=None, sock_read=timeout_seconds + 30),
        ) as response:
            if response.status >= 400:
                raise error_from(response.status, await _json(response))
            self._streams.add(response)
            try:
                buffer = b""
                async for chunk in response.content.iter_any():
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if line.strip():
                            event = json.loads(line)
                            if isinstance(event, dict):
                                yield event
            finally:
                self._streams.discard(response)


async def _json(response: aiohttp.ClientResponse) -> Any:
    text = await response.text()
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {"message": f"not JSON ({response.content_type})"}
