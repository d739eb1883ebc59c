"""Client-credentials harness: resources as YAML go through the real validation and the real
reconcile (``batch.reconcile_all``, as dev mode runs it) into the storage the real control plane
serves; real sidecars obtain tokens from the real authorization server (npm ``oidc-provider``);
an API accepts only JWT access tokens that server signed (verified against its JWKS)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web

from strongroom_core.resources import loading, models, validation
from strongroom_core.sealing import credentials, publickey
from strongroom_core.storage import records, sqlite
from strongroom_operator.controlplane import keyservice
from strongroom_operator.reconcile import batch, context, outcomes, secretrefs
from strongroom_sidecar import app as sidecar_app
from tests import canary
from tests.sidecar import builders
from tests.sidecar.conftest import ControlPlane, proxy_url
from tests.support import jwts
from tests.support.oauth_server import OAuthServer

NS, APP = builders.NAMESPACE, builders.APP
PROVIDER, GRANT, SECRET = "reports-api", "nightly-reports", "reports-oauth"


class VerifyingApi:
    """Accepts a call only with an unexpired JWT access token the server signed for its API;
    remembers the verified claims of every token it saw."""

    def __init__(self) -> None:
        self.port = 0
        self.claims: dict[str, dict[str, Any]] = {}
        self._server: OAuthServer | None = None
        self._jwks: dict[str, Any] = {}
        self._runner: web.AppRunner | None = None

    def url(self, path: str = "/reports") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def trust(self, server: OAuthServer) -> None:
        with httpx.Client(verify=server.verify) as client:
            self._jwks = client.get(server.jwks_url).json()
        self._server = server

    async def start(self) -> None:
        application = web.Application()
        application.router.add_get("/reports", self._handle)
        self._runner = web.AppRunner(application, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        assert self._server is not None, "trust(server) first"
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        canary.register(token)
        claims = self.claims.get(token)
        if claims is None:
            try:
                claims = jwts.verify(
                    token, self._jwks, issuer=self._server.issuer, audience=self._server.audience
                )
            except (jwts.InvalidToken, ValueError, KeyError):
                return web.json_response({"error": "invalid_token"}, status=401)
            self.claims[token] = claims
        if time.time() >= float(claims["exp"]):
            return web.json_response({"error": "invalid_token", "why": "expired"}, status=401)
        return web.json_response({"client": claims.get("client_id"), "scope": claims.get("scope")})


@pytest.fixture
async def verifying_api() -> AsyncIterator[VerifyingApi]:
    api = VerifyingApi()
    await api.start()
    yield api
    await api.stop()


def documents(
    server: OAuthServer,
    api_port: int,
    *,
    principal: str = "system",
    scopes: tuple[str, ...] = ("api:read",),
    credential: str = "{clientCredentials: {}}",
    auth_method: str = "client_secret_basic",
) -> str:
    """App, oauth2 Provider (the server's service client) and a client-credentials Grant."""
    scope_list = ", ".join(scopes)
    return f"""
apiVersion: strongroom.dev/v1alpha1
kind: App
metadata: {{name: {APP}, namespace: {NS}}}
spec: {{serviceAccounts: [billing]}}
---
apiVersion: strongroom.dev/v1alpha1
kind: Provider
metadata: {{name: {PROVIDER}, namespace: {NS}}}
spec:
  appRef: {APP}
  type: oauth2
  allowedHosts: ["127.0.0.1:{api_port}"]
  oauth2:
    tokenURL: {server.token_url}
    clientId: {server.service_client.client_id}
    clientAuthMethod: {auth_method}
    clientSecretRef: {{name: {SECRET}}}
---
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {{name: {GRANT}, namespace: {NS}}}
spec:
  appRef: {APP}
  providerRef: {PROVIDER}
  principal: {{kind: {principal}, id: reports}}
  scopes: [{scope_list}]
  credential: {credential}
"""


def load(text: str) -> tuple[list[models.Resource], list[str]]:
    """Resources and every problem the real loading and reference checks report (as dev mode
    would print them)."""
    loaded = loading.load_documents(text, "resources.yaml", allow_loopback_http=True)
    problems = [str(item) for item in loaded if isinstance(item, loading.LoadFailure)]
    resources = [item for item in loaded if not isinstance(item, loading.LoadFailure)]
    problems += [str(error) for error in validation.check_references(resources).values()]
    return resources, problems


class Deployment:
    """What the operator does for one folder of resources, against the control plane's store."""

    def __init__(self, storage: sqlite.SqliteStorage, cp: ControlPlane) -> None:
        self.storage = storage
        self.secrets = secretrefs.MappingSecrets()
        self.ctx = context.ReconcileContext(
            storage=storage,
            key_service=keyservice.KeyService(storage, cp.root),
            sealing_key=publickey.SealingKey.generate(),
            secrets=self.secrets,
        )

    def set_client_secret(self, secret: str) -> None:
        self.secrets.replace({(NS, SECRET): {"clientSecret": secret}})

    async def apply(self, text: str) -> batch.Report:
        resources, problems = load(text)
        assert problems == []
        return await batch.reconcile_all(self.ctx, resources)

    async def grant_outcome(self, text: str) -> outcomes.Outcome:
        return (await self.apply(text))[("Grant", NS, GRANT)]

    async def record(self) -> records.GrantRecord:
        record = await self.storage.get_grant(NS, GRANT)
        assert record is not None
        return record

    async def credential(self) -> dict[str, str]:
        """The stored credential, opened (its tokens registered as canaries)."""
        keyring = await self.ctx.key_service.ensure_app_keys(NS, APP)
        opened = credentials.open_grant_credential(keyring, await self.record())
        for field in ("access_token", "refresh_token"):
            if opened.get(field):
                canary.register(opened[field])
        return opened


@pytest.fixture
def deployment(storage: sqlite.SqliteStorage, control_plane: ControlPlane) -> Deployment:
    return Deployment(storage, control_plane)


async def call(
    http: aiohttp.ClientSession, car: sidecar_app.Sidecar, target: str
) -> tuple[int, dict[str, Any]]:
    """One call through the sidecar with the system grant: (status, JSON body)."""
    async with http.get(
        proxy_url(car), headers={"Strongroom-Target": target, "Strongroom-Grant": GRANT}
    ) as response:
        return response.status, await response.json(content_type=None)


def sidecar_settings(**overrides: Any) -> dict[str, Any]:
    """Short timeouts so failure paths finish quickly."""
    values: dict[str, Any] = {
        "refresh_timeout": 3.0,
        "refresh_lease": 6.0,
        "refresh_backoff_initial": 0.2,
        "refresh_backoff_max": 1.0,
    }
    return values | overrides
