"""Which ServiceAccounts an App allows: read from the App resource at admission time.

Read per admission rather than from a cache: a pod is admitted rarely, and a fresh read means a
ServiceAccount just removed from an App is refused at once. Only ``spec.serviceAccounts`` is read;
whether the rest of the App is valid is the operator's business (its status says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import aiohttp

from strongroom_core.resources import models
from strongroom_kube import client, config


class AppUnavailable(Exception):
    """The App could not be read (API error); the message says why, without any payload."""


class AppSource(Protocol):
    async def service_accounts(self, namespace: str, name: str) -> tuple[str, ...] | None:
        """The App's allowed ServiceAccounts; ``None`` when there is no such App."""
        ...


class KubeApps:
    def __init__(self, api: client.KubeClient) -> None:
        self._api = api

    async def service_accounts(self, namespace: str, name: str) -> tuple[str, ...] | None:
        path = f"/apis/{models.API_VERSION}/namespaces/{namespace}/apps/{name}"
        try:
            body = await self._api.get(path)
        except client.NotFound:
            return None
        except (
            client.ApiError,
            config.ConfigError,
            aiohttp.ClientError,
            OSError,
            TimeoutError,
        ) as e:
            raise AppUnavailable(f"cannot read App {namespace}/{name}: {e}") from e
        spec = body.get("spec")
        accounts = spec.get("serviceAccounts") if isinstance(spec, dict) else None
        if not isinstance(accounts, list):
            return ()
        return tuple(a for a in accounts if isinstance(a, str))


class StaticApps:
    """A fixed table (benchmarks, unit tests of the pipeline)."""

    def __init__(self, apps: Mapping[tuple[str, str], tuple[str, ...]]) -> None:
        self._apps = dict(apps)

    async def service_accounts(self, namespace: str, name: str) -> tuple[str, ...] | None:
        return self._apps.get((namespace, name))
