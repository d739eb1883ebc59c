"""Key release: the control plane's public sealing key (anyone) and an App's data keys (only
that App's sidecars)."""

from __future__ import annotations

import base64

from aiohttp import web

from strongroom_core import protocol
from strongroom_operator.controlplane import state

routes = web.RouteTableDef()


@routes.get("/v1/sealing-key")
async def get_sealing_key(request: web.Request) -> web.Response:
    """Public: the CLI seals managed secrets to it (``strongroom seal``)."""
    sealing_key = state.of(request).sealing_key
    body: protocol.SealingKeyResponse = {
        "kid": sealing_key.kid,
        "publicKey": sealing_key.public_pem(),
    }
    return web.json_response(body)


@routes.get("/v1/apps/{namespace}/{app}/keys")
async def get_app_keys(request: web.Request) -> web.Response:
    """Every key version the App holds (old ones still open old blobs), base64 encoded. Not
    even an admin gets them: key material goes only where it is used."""
    cp = state.of(request)
    namespace, app = request.match_info["namespace"], request.match_info["app"]
    await cp.app_caller(request, namespace, app, admin=False)
    keyring = await cp.key_service.app_keys(namespace, app)
    active = keyring.active.kid
    wire: list[protocol.KeyWire] = []
    for kid in keyring.kids():
        key = keyring.get(kid)
        assert key is not None
        wire.append(
            {
                "kid": kid,
                "key": base64.b64encode(key.material).decode("ascii"),
                "active": kid == active,
            }
        )
    body: protocol.KeysResponse = {"keys": wire}
    return web.json_response(body, headers={"Cache-Control": "no-store"})
