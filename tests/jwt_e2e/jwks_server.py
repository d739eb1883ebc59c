"""A test-owned identity provider endpoint: a real HTTP server on loopback serving a JWKS that
the test can rotate, and counting its fetches. Tokens are signed with
``tests.core.identity.factories.Signer`` keys."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from aiohttp import web

from tests.core.identity import factories

ISSUER = "https://id.test.strongroom.dev/realms/shop"
AUDIENCE = "shop-api"


@dataclass
class JwksServer:
    signers: list[factories.Signer]
    fetches: int = 0
    port: int = 0
    _runner: web.AppRunner | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/certs"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/certs", self._certs)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def rotate(self, signer: factories.Signer) -> None:
        """The provider drops its old keys and signs with ``signer`` from now on."""
        self.signers = [signer]

    async def _certs(self, request: web.Request) -> web.Response:
        self.fetches += 1
        body = json.dumps({"keys": [s.jwk() for s in self.signers]})
        return web.Response(body=body, content_type="application/json")


def identity_yaml(jwks_url: str) -> str:
    return f"""
apiVersion: strongroom.dev/v1alpha1
kind: App
metadata: {{name: demo, namespace: default}}
spec:
  serviceAccounts: [demo]
  identity:
    issuer: {ISSUER}
    jwksURL: {jwks_url}
    audiences: [{AUDIENCE}]
    algorithms: [RS256]
"""
