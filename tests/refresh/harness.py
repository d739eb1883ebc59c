"""Refresh test harness: the real control plane (on SQLite, or whatever storage a test module
gives as ``storage``) and real sidecars (tests/sidecar's fixtures), an OAuth2 provider (the
test-owned one in provider.py, or the real authorization server) and an API that accepts only
tokens the provider issued."""

from __future__ import annotations

import dataclasses
import io
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from strongroom_core import audit, policy, protocol
from strongroom_core.sealing import appkeys, credentials, keys, providersecrets
from strongroom_core.storage import ports, records
from strongroom_sidecar import app as sidecar_app
from tests.refresh import provider as provider_module
from tests.sidecar import builders
from tests.sidecar.conftest import ADMIN_TOKEN as ADMIN_TOKEN
from tests.sidecar.conftest import ControlPlane as ControlPlane
from tests.sidecar.conftest import SidecarFactory as SidecarFactory
from tests.sidecar.conftest import eventually as eventually
from tests.sidecar.conftest import proxy_url as proxy_url

NS, APP = builders.NAMESPACE, builders.APP
PROVIDER = "api"
GRANT = "api-system"


def oauth2_provider(
    api_port: int,
    token_url: str,
    *,
    client_id: str = provider_module.CLIENT_ID,
    auth_method: str = "client_secret_basic",
    margin: int = 0,
    token_response: dict[str, str] | None = None,
    sealed_secret: tuple[str, str] | None = None,
) -> policy.ProviderPolicy:
    oauth2: policy.OAuth2Wire = {
        "tokenURL": token_url,
        "clientId": client_id,
        "clientAuthMethod": auth_method,
        "refreshMarginSeconds": margin,
        "tokenResponse": token_response or {},
        "scopeSeparator": " ",
    }
    if sealed_secret is not None:
        oauth2["clientSecretSealed"], oauth2["clientSecretDigest"] = sealed_secret
    return {
        "type": "oauth2",
        "allowedHosts": [f"127.0.0.1:{api_port}"],
        "injections": [{"type": "bearer"}],
        "defaultField": "access_token",
        "oauth2": oauth2,
    }


class RefreshWorld:
    """The App's stored state, written through storage like the operator would."""

    def __init__(self, storage: ports.Storage, root: keys.Keyring) -> None:
        self.storage = storage
        self.root = root
        self.providers: dict[str, policy.ProviderPolicy] = {}
        self._digest = 0

    async def init(self) -> None:
        body = appkeys.new_app_keys_document(self.root, NS, APP)
        await self.storage.put_document(NS, APP, "keys", body, None)

    async def keyring(self) -> keys.Keyring:
        document = await self.storage.get_document(NS, APP, "keys")
        assert document is not None
        return appkeys.unwrap_app_keys(self.root, document.body, NS, APP)

    async def seal_secret(self, secret: str, provider: str = PROVIDER) -> tuple[str, str]:
        key = (await self.keyring()).active
        sealed = providersecrets.seal_client_secret(
            key, secret, namespace=NS, app=APP, provider=provider
        )
        return sealed, providersecrets.secret_digest(key, secret)

    async def put_policy(self) -> None:
        self._digest += 1
        grants = await self.storage.list_grants(NS, APP)
        body = dict(builders.compiled_policy(self.providers, grants, f"refresh-{self._digest}"))
        current = await self.storage.get_document(NS, APP, "policy")
        await self.storage.put_document(
            NS, APP, "policy", body, None if current is None else current.version
        )

    async def add_provider(self, wire: policy.ProviderPolicy, name: str = PROVIDER) -> None:
        self.providers[name] = wire
        await self.put_policy()

    async def add_grant(
        self,
        credential: dict[str, str],
        *,
        name: str = GRANT,
        provider: str = PROVIDER,
        **fields: Any,
    ) -> records.GrantRecord:
        expires = credential.get("expires_at")
        record = builders.grant(
            name,
            provider=provider,
            sealed="",
            version=0,
            token_expires_at=float(expires) if expires else None,
            **fields,
        )
        key = (await self.keyring()).active
        record = dataclasses.replace(
            record, sealed=credentials.seal_for_record(key, record, credential)
        )
        stored = await self.storage.create_grant(record)
        await self.put_policy()
        return stored

    async def grant(self, name: str = GRANT) -> records.GrantRecord:
        record = await self.storage.get_grant(NS, name)
        assert record is not None
        return record

    async def credential(self, name: str = GRANT) -> dict[str, str]:
        return credentials.open_grant_credential(await self.keyring(), await self.grant(name))

    async def expire_now(self, name: str = GRANT) -> records.GrantRecord:
        """Move the stored token expiry into the past (as time would)."""
        current = await self.grant(name)
        return await self.storage.replace_grant(
            dataclasses.replace(current, token_expires_at=time.time() - 1), current.version
        )

    async def replace(self, name: str = GRANT, **changes: Any) -> records.GrantRecord:
        current = await self.grant(name)
        return await self.storage.replace_grant(
            dataclasses.replace(current, **changes), current.version
        )


@pytest.fixture
async def token_endpoint() -> AsyncIterator[provider_module.TokenEndpoint]:
    endpoint = provider_module.TokenEndpoint()
    await endpoint.start()
    yield endpoint
    await endpoint.stop()


@pytest.fixture
async def api(token_endpoint: provider_module.TokenEndpoint) -> AsyncIterator[provider_module.Api]:
    upstream = provider_module.Api(token_endpoint)
    await upstream.start()
    yield upstream
    await upstream.stop()


@pytest.fixture
async def world(storage: ports.Storage, root_keyring: keys.Keyring) -> RefreshWorld:
    w = RefreshWorld(storage, root_keyring)
    await w.init()
    return w


async def call(
    http: aiohttp.ClientSession,
    car: sidecar_app.Sidecar,
    target: str,
    *,
    method: str = "GET",
    data: bytes | None = None,
    grant: str = GRANT,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """One call through the sidecar: (status, JSON body, headers)."""
    async with http.request(
        method,
        proxy_url(car),
        headers={"Strongroom-Target": target, "Strongroom-Grant": grant},
        data=data,
    ) as response:
        body = await response.read()
        try:
            document = json.loads(body) if body else {}
        except ValueError:
            document = {"raw": body.decode(errors="replace")}
        return response.status, document, dict(response.headers)


def audit_events(car: sidecar_app.Sidecar) -> list[audit.AuditEvent]:
    """Every audit event the sidecar printed so far."""
    stream: io.StringIO = car.audit_stream  # type: ignore[attr-defined]
    car.audit._print()  # flush what is not printed yet
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def admin_put(
    http: aiohttp.ClientSession,
    cp: ControlPlane,
    record: records.GrantRecord,
    expected: int,
) -> tuple[int, dict[str, Any]]:
    async with http.put(
        f"{cp.url}/v1/apps/{NS}/{APP}/grants/{record.name}",
        json={"grant": protocol.grant_to_wire(record), "expectedVersion": expected},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ) as response:
        return response.status, await response.json()
