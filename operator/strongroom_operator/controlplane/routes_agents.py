"""Agent key rotation for admins: ``POST /v1/apps/{namespace}/{app}/agents/{agent}/rotate``.

Body (optional): ``{"overlapSeconds": N}`` — how long the older keys keep working (default:
:data:`DEFAULT_OVERLAP`, an hour, as ``spec.keyRotation.overlapSeconds`` defaults). Answers
``{"agent", "kid", "key", "previousKeysNotAfter"}`` once: the new key's plaintext is in this
answer and nowhere else (only its SHA-256 is stored). An audit event ``key.rotated`` records who
rotated which key id, never the key.
"""

from __future__ import annotations

import time

from aiohttp import web

from strongroom_core import audit
from strongroom_operator.controlplane import auth, bodies, problems, state
from strongroom_operator.reconcile import agents

routes = web.RouteTableDef()

DEFAULT_OVERLAP = 3600
MAX_OVERLAP = 30 * 86400


@routes.post("/v1/apps/{namespace}/{app}/agents/{agent}/rotate")
async def rotate(request: web.Request) -> web.Response:
    cp = state.of(request)
    caller = await cp.caller(request)
    auth.require_admin(caller)
    namespace, app = request.match_info["namespace"], request.match_info["app"]
    agent = request.match_info["agent"]
    overlap = DEFAULT_OVERLAP
    if request.body_exists:
        body = await bodies.read_json_object(request)
        if "overlapSeconds" in body:
            value = body["overlapSeconds"]
            if not bodies.is_int(value) or not 0 <= value <= MAX_OVERLAP:
                raise problems.invalid(
                    "overlapSeconds", f"an integer from 0 to {MAX_OVERLAP} (seconds)"
                )
            overlap = int(value)
    now = time.time()
    try:
        issued = await agents.rotate_key(
            cp.storage, namespace, app, agent, now=now, overlap=overlap
        )
    except agents.AgentNotFound as e:
        raise problems.not_found(str(e)) from None
    event = audit.lifecycle_event(
        "key.rotated",
        namespace=namespace,
        app=app,
        caller=caller.name,
        principal=f"agent:{agent}",
        status=200,
        decision="allow",
        reason=f"agent {agent}: new key {issued.kid}; older keys end in {overlap}s",
        at=now,
    )
    await cp.storage.append_audit([dict(event)])
    return web.json_response(
        {
            "agent": agent,
            "kid": issued.kid,
            "key": issued.plaintext,
            "previousKeysNotAfter": issued.not_after_previous,
        },
        headers={"Cache-Control": "no-store"},
    )
