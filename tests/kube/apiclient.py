"""A bare HTTP client for the emulator's own tests: they assert on status codes and wire
bodies, so they talk raw HTTP rather than through any project client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from tests.kube import emulator


class Raw:
    def __init__(self, kube: emulator.KubeEmulator, session: aiohttp.ClientSession) -> None:
        self.kube = kube
        self.session = session

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        token: str | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token or self.kube.admin_token}"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = content_type
        async with self.session.request(
            method, self.kube.url + path, data=data, headers=headers, params=params
        ) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text else None)

    async def watch(self, path: str, **params: str) -> AsyncIterator[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.kube.admin_token}"}
        async with self.session.get(
            self.kube.url + path, params={"watch": "true", **params}, headers=headers
        ) as response:
            assert response.status == 200
            async for line in response.content:
                if line.strip():
                    yield json.loads(line)


def secret(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "labels": labels or {}},
        "stringData": data,
    }


def app(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "strongroom.dev/v1alpha1",
        "kind": "App",
        "metadata": {"name": name},
        "spec": {"serviceAccounts": ["shop"], **spec},
    }
