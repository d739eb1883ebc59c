"""One grant: read it, and write back a refreshed credential or refresh claim by
compare-and-swap on its version."""

from __future__ import annotations

from aiohttp import web

from strongroom_core import protocol
from strongroom_core.storage import errors as storage_errors
from strongroom_core.storage import records
from strongroom_operator.controlplane import auth, bodies, grantchecks, problems, state

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
    auth.require_app(await cp.caller(request), namespace, app, admin=True)
    record = await _stored_grant(cp, namespace, app, name)
    return web.json_response({"grant": protocol.grant_to_wire(record)})


@routes.put(GRANT_PATH)
async def replace_grant(request: web.Request) -> web.Response:
    """Compare-and-swap: 409 ``version_conflict`` when ``expectedVersion`` is not the stored
    version (someone else wrote first: re-read, then decide again)."""
    cp = state.of(request)
    namespace, app, name = (request.match_info[k] for k in ("namespace", "app", "name"))
    auth.require_app(await cp.caller(request), namespace, app, admin=True)
    wire, expected = grantchecks.parse_replace_request(await bodies.read_json_object(request))
    stored = await _stored_grant(cp, namespace, app, name)
    if stored.version != expected:
        raise storage_errors.ConflictError(f"grant {namespace}/{name}", expected, stored.version)
    updated = grantchecks.apply_write_back(stored, wire, namespace, app, name)
    written = await cp.storage.replace_grant(updated, expected)
    return web.json_response({"grant": protocol.grant_to_wire(written)})
