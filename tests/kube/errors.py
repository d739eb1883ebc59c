"""API errors as the real API server words them: a ``Status`` object with a reason and a code.

Clients (kopf, the Kubernetes storage) branch on ``code`` and ``reason``, so these carry the
same values the API server sends for the same failure.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """One failed request; ``status()`` is the body sent back."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def status(self) -> dict[str, Any]:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": self.details,
            "code": self.code,
        }


def _details(plural: str, name: str, group: str) -> dict[str, Any]:
    return {"name": name, "group": group, "kind": plural}


def not_found(plural: str, name: str, group: str = "") -> ApiError:
    where = f"{plural}.{group}" if group else plural
    return ApiError(404, "NotFound", f'{where} "{name}" not found', _details(plural, name, group))


def already_exists(plural: str, name: str, group: str = "") -> ApiError:
    where = f"{plural}.{group}" if group else plural
    return ApiError(
        409, "AlreadyExists", f'{where} "{name}" already exists', _details(plural, name, group)
    )


def conflict(plural: str, name: str, group: str = "") -> ApiError:
    where = f"{plural}.{group}" if group else plural
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {where} "{name}": the object has been modified;'
        " please apply your changes to the latest version and try again",
        _details(plural, name, group),
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def invalid(plural: str, name: str, message: str, group: str = "") -> ApiError:
    return ApiError(422, "Invalid", message, _details(plural, name, group))


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def method_not_allowed(message: str) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def forbidden(verb: str, plural: str, namespace: str, group: str = "") -> ApiError:
    resource = f"{plural}.{group}" if group else plural
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    return ApiError(
        403,
        "Forbidden",
        f'{resource} is forbidden: User "emulated" cannot {verb} resource "{plural}" in API'
        f' group "{group}" {where}',
        {"kind": plural, "group": group},
    )


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format: {content_type}",
    )
