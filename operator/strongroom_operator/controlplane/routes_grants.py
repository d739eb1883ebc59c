"""One grant: read it, claim it for a refresh (``POST .../claim``, see :mod:`claims`), and write
back a refreshed credential or a released claim by compare-and-swap on its version."""

from __future__ import annotations

import json

from aiohttp import web

from strongroom_core import protocol
from strongroom_core.storage import errors as storage_errors
from strongroom_core.storage import records
from strongroom_operator.controlplane import bodies, claims, grantchecks, problems, state

routes = web.RouteTableDef()

GRANT_PATH = "/v1/apps/{namespace}/{app}/grants/{name}"


async def _stored_grant(
    cp: state.ControlPlane, namespace: str, app: str, name: str
) -> records.GrantRecord:
    record = await cp.storage.get_grant(namespace, name)
    if record is None or record.app != app:
        raise problems.not_found(f"App {namespace}/{app} has no grant {name!r}")
    return record


@routes.get(GRANT_PATH)
async def get_grant(request: web.Request) -> web.Response:
    cp = state.of(request)
    namespace, app, name = (request.match_info[k] for k in ("namespace", "app", "name"))
    await cp.app_caller(request, namespace, app, admin=True)
    record = await _stored_grant(cp, namespace, app, name)
    return web.json_response({"grant": protocol.grant_to_wire(record)})


@routes.put(GRANT_PATH)
async def replace_grant(request: web.Request) -> web.Response:
    """Compare-and-swap: 409 ``version_conflict`` when ``expectedVersion`` is not the stored
    version (someone else wrote first: re-read, then decide again)."""
    cp = state.of(request)
    namespace, app, name = (request.match_info[k] for k in ("namespace", "app", "name"))
    await cp.app_caller(request, namespace, app, admin=True)
    wire, expected = grantchecks.parse_replace_request(await bodies.read_json_object(request))
    stored = await _stored_grant(cp, namespace, app, name)
    if stored.version != expected:
        raise storage_errors.ConflictError(f"grant {namespace}/{name}", expected, stored.version)
    updated = grantchecks.apply_write_back(stored, wire, namespace, app, name)
    written = await cp.storage.replace_grant(updated, expected)
    return web.json_response({"grant": protocol.grant_to_wire(written)})


@routes.post(GRANT_PATH + "/claim")
async def claim_grant(request: web.Request) -> web.Response:
    """Refresh claim decided with the control plane's clock: 200 with the claimed record (its
    ``version`` is the one to write back with), or 409 ``generation_changed`` / ``claim_held``
    / ``not_refreshable`` whose problem document also carries ``grant`` and ``serverTime``."""
    cp = state.of(request)
    namespace, app, name = (request.match_info[k] for k in ("namespace", "app", "name"))
    await cp.app_caller(request, namespace, app, admin=True)
    wanted = claims.parse_claim_request(await bodies.read_json_object(request))
    try:
        record, now = await claims.claim(cp.storage, namespace, app, name, wanted)
    except claims.ClaimRefused as refused:
        body = {
            **protocol.problem(409, refused.code, "Conflict", refused.detail),
            "grant": protocol.grant_to_wire(refused.record),
            "serverTime": refused.now,
        }
        return web.Response(
            status=409, body=json.dumps(body).encode(), content_type=problems.CONTENT_TYPE
        )
    return web.json_response({"grant": protocol.grant_to_wire(record), "serverTime": now})
