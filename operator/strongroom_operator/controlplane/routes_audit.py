"""Audit ingest (sidecars, at-least-once, idempotent by event id) and audit query (admins)."""

from __future__ import annotations

from aiohttp import web

from strongroom_core import protocol
from strongroom_core.storage import records
from strongroom_operator.controlplane import auditing, auth, bodies, state

routes = web.RouteTableDef()

EXTRA_FILTERS = ("kind", "provider", "principal", "caller", "decision")
"""Query parameters matched exactly against event fields, besides namespace, app and grant."""


@routes.post("/v1/audit")
async def ingest(request: web.Request) -> web.Response:
    cp = state.of(request)
    caller = await cp.caller(request)
    body = await bodies.read_json_object(request)
    events = auditing.parse_events(body, caller, cp.settings.max_audit_events)
    stored = await cp.storage.append_audit(events) if events else 0
    answer: protocol.AuditIngestResponse = {"accepted": len(events), "stored": stored}
    return web.json_response(answer)


@routes.get("/v1/audit")
async def query(request: web.Request) -> web.Response:
    cp = state.of(request)
    auth.require_admin(await cp.caller(request))
    limit = bodies.query_int(request, "limit", 100, 1, cp.settings.max_audit_query_limit)
    audit_query = records.AuditQuery(
        limit=limit,
        namespace=request.query.get("namespace") or None,
        app=request.query.get("app") or None,
        grant=request.query.get("grant") or None,
        extra={name: request.query[name] for name in EXTRA_FILTERS if request.query.get(name)},
    )
    return web.json_response({"events": await cp.storage.query_audit(audit_query)})
