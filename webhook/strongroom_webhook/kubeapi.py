"""The few Kubernetes API calls the webhook makes (GET, POST, PUT of JSON), with the bearer
token re-read per call (projected tokens rotate). The operator has a fuller client; roles may not
import each other, and the webhook needs only this.

Errors: :class:`ApiError` (status, reason) with :class:`NotFound` (404), :class:`Conflict` (409
stale resourceVersion) and :class:`AlreadyExists` (409 on create). No request body is quoted in
an error: the bodies carry TLS keys.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import ssl
from pathlib import Path
from typing import Any

import aiohttp
import yaml

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"Kubernetes API answered {status} {reason}: {message[:300]}")
        self.status = status
        self.reason = reason


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    pass


class AlreadyExists(ApiError):
    pass


@dataclasses.dataclass(frozen=True)
class Cluster:
    server: str
    token_file: Path | None = None
    token: str | None = dataclasses.field(default=None, repr=False)
    ca_file: Path | None = None
    ca_data: str | None = dataclasses.field(default=None, repr=False)

    def read_token(self) -> str | None:
        if self.token_file is not None:
            return self.token_file.read_text(encoding="utf-8").strip()
        return self.token

    def ssl_context(self) -> ssl.SSLContext | bool:
        if not self.server.startswith("https://"):
            return False
        return ssl.create_default_context(
            cafile=str(self.ca_file) if self.ca_file else None, cadata=self.ca_data
        )


def in_cluster(directory: Path = SERVICE_ACCOUNT_DIR) -> Cluster:
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    if not host:
        raise ApiError(0, "NotInCluster", "KUBERNETES_SERVICE_HOST is not set; give a kubeconfig")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    host = f"[{host}]" if ":" in host else host
    return Cluster(f"https://{host}:{port}", directory / "token", ca_file=directory / "ca.crt")


def from_kubeconfig(path: Path) -> Cluster:
    """The current context (token or tokenFile users, certificate-authority[-data] only)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))

    def named(section: str, name: object, what: str) -> dict[str, Any]:
        for entry in document.get(section) or ():
            if entry.get("name") == name:
                return dict(entry.get(what) or {})
        raise ApiError(0, "BadKubeconfig", f"kubeconfig {path}: no {what} named {name!r}")

    context = named("contexts", document.get("current-context"), "context")
    cluster = named("clusters", context.get("cluster"), "cluster")
    user = named("users", context.get("user"), "user")
    ca_data = cluster.get("certificate-authority-data")
    return Cluster(
        server=str(cluster["server"]).rstrip("/"),
        token_file=path.parent / user["tokenFile"] if user.get("tokenFile") else None,
        token=user.get("token"),
        ca_file=path.parent / cluster["certificate-authority"]
        if cluster.get("certificate-authority")
        else None,
        ca_data=base64.b64decode(ca_data).decode() if ca_data else None,
    )


class KubeApi:
    """Open with ``async with``; one session, reused."""

    def __init__(self, cluster: Cluster, *, timeout: float = 5.0) -> None:
        self.cluster = cluster
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"KubeApi({self.cluster.server!r})"

    async def __aenter__(self) -> KubeApi:
        connector = aiohttp.TCPConnector(ssl=self.cluster.ssl_context())
        self._session = aiohttp.ClientSession(connector=connector)
        return self

    async def __aexit__(self, *exc: object) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def get(self, path: str) -> dict[str, Any]:
        return await self.request("GET", path)

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.request("POST", path, body)

    async def replace(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT: with ``metadata.resourceVersion`` set, a stale write is :class:`Conflict`."""
        return await self.request("PUT", path, body)

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        if self._session is None:
            raise RuntimeError(f"{self!r} is not open")
        headers = {"Accept": "application/json"}
        token = self.cluster.read_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode("utf-8")
        async with self._session.request(
            method,
            self.cluster.server + path,
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        ) as response:
            text = await response.text()
            try:
                payload = json.loads(text) if text else {}
            except ValueError:
                payload = {"message": f"not JSON ({response.content_type})"}
            if response.status >= 400:
                raise _error(response.status, payload)
            if not isinstance(payload, dict):
                raise ApiError(response.status, "BadResponse", "the answer is not a JSON object")
            return payload


def _error(status: int, body: Any) -> ApiError:
    reason = str(body.get("reason", "")) if isinstance(body, dict) else ""
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    if status == 404:
        return NotFound(status, reason or "NotFound", message)
    if status == 409:
        kind = AlreadyExists if reason == "AlreadyExists" else Conflict
        return kind(status, reason or "Conflict", message)
    return ApiError(status, reason or "Error", message)
