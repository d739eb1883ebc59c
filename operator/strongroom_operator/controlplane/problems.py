"""Errors as ``application/problem+json`` (RFC 9457) with a stable ``code``.

Handlers raise :class:`ProblemError`; the middleware renders it, maps storage errors to their
status, and turns aiohttp's own HTTP errors (404 route, 405, 413) into problems too. Details
name the field, header or parameter at fault and never carry a token, key material or a
request body.

Codes: ``unauthenticated`` 401, ``forbidden`` 403, ``not_found`` 404,
``method_not_allowed`` 405, ``version_conflict`` 409, ``already_exists`` 409,
``revision_gone`` 410, ``payload_too_large`` 413, ``invalid_request`` 400,
``immutable_field`` 422, ``internal`` 500, ``unavailable`` 503.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from strongroom_core import protocol
from strongroom_core.storage import errors as storage_errors

logger = logging.getLogger("strongroom.controlplane")

CONTENT_TYPE = "application/problem+json"

_TITLES = {
    400: "Invalid request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Payload too large",
    422: "Unprocessable field",
    500: "Internal error",
    503: "Unavailable",
}

_CODES_FOR_HTTP = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


class ProblemError(Exception):
    """An error answered to the client as a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


def invalid(field: str, what: str) -> ProblemError:
    """400 naming the field: ``invalid("grant.state", "must be one of ...")``."""
    return ProblemError(400, "invalid_request", f"{field}: {what}")


def forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "forbidden", detail)


def not_found(detail: str) -> ProblemError:
    return ProblemError(404, "not_found", detail)


def immutable(field: str, what: str) -> ProblemError:
    return ProblemError(422, "immutable_field", f"{field}: {what}")


def response(
    status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    body = protocol.problem(status, code, _TITLES.get(status, "Error"), detail)
    return web.Response(
        status=status,
        body=json.dumps(body).encode("utf-8"),
        content_type=CONTENT_TYPE,
        headers=headers,
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ProblemError as e:
        return response(e.status, e.code, e.detail, e.headers)
    except storage_errors.ConflictError as e:
        return response(
            409,
            "version_conflict",
            f"{e}: read the current record (or wait for it on the watch stream) and retry",
        )
    except storage_errors.AlreadyExistsError as e:
        return response(409, "already_exists", str(e))
    except storage_errors.NotFoundError as e:
        return response(404, "not_found", str(e))
    except storage_errors.RevisionGoneError as e:
        return response(410, "revision_gone", str(e))
    except web.HTTPException as e:
        if e.status < 400:
            raise
        code = _CODES_FOR_HTTP.get(e.status, "invalid_request" if e.status < 500 else "internal")
        detail = _http_detail(request, e)
        return response(e.status, code, detail)
    except Exception as e:
        # Frames and the exception type only: a message from a library may quote a token.
        frames = "".join(traceback.format_tb(e.__traceback__))
        logger.error(
            "unhandled %s in %s %s\n%s", type(e).__name__, request.method, request.path, frames
        )
        return response(500, "internal", "the control plane failed; see its log")


def _http_detail(request: web.Request, e: web.HTTPException) -> str:
    if e.status == 404:
        return f"no such endpoint: {request.path} (see docs/control-plane-protocol.md)"
    if e.status == 405:
        return f"{request.method} is not allowed on {request.path}"
    if e.status == 413:
        return f"request body too large: {e.text or 'over the limit'}; send less per request"
    return e.reason
