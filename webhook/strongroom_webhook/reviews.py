"""AdmissionReview v1 on the wire, typed (like kopf's ``_cogs/structs/reviews.py``), and the
parser that turns an untrusted request body into a :class:`Review` or a clear refusal.

Two kinds of refusal: a body that is not an AdmissionReview with a request ``uid`` cannot be
answered as a review at all (:class:`NotAReview`, HTTP 400); anything else malformed is answered
as a denied review that names the field (:class:`MalformedReview`), so the API server shows the
user a reason instead of "failed calling webhook".
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any, Literal, TypedDict

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"
_MAX_QUOTED = 80

Operation = Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]


class GroupVersionKind(TypedDict):
    group: str
    version: str
    kind: str


class GroupVersionResource(TypedDict):
    group: str
    version: str
    resource: str


class UserInfo(TypedDict, total=False):
    username: str
    uid: str
    groups: list[str]
    extra: dict[str, list[str]]


class RequestPayload(TypedDict, total=False):
    uid: str
    kind: GroupVersionKind
    resource: GroupVersionResource
    subResource: str
    requestKind: GroupVersionKind
    requestResource: GroupVersionResource
    name: str
    namespace: str
    operation: Operation
    userInfo: UserInfo
    object: dict[str, Any]
    oldObject: dict[str, Any]
    dryRun: bool
    options: dict[str, Any]


class ResponseStatus(TypedDict, total=False):
    code: int
    message: str
    reason: str


class ResponsePayload(TypedDict, total=False):
    uid: str
    allowed: bool
    status: ResponseStatus
    patch: str
    patchType: Literal["JSONPatch"]
    warnings: list[str]


class AdmissionReview(TypedDict, total=False):
    apiVersion: str
    kind: str
    request: RequestPayload
    response: ResponsePayload


class NotAReview(ValueError):
    """The body is not an AdmissionReview carrying a request uid: answered with HTTP 400."""


class MalformedReview(ValueError):
    """The review has a uid but something else is wrong: answered as a denial naming it."""

    def __init__(self, message: str, uid: str = "") -> None:
        super().__init__(message)
        self.uid = uid


@dataclasses.dataclass(frozen=True, slots=True)
class Review:
    """The parts of a request the webhook acts on."""

    uid: str
    kind: str
    operation: str
    namespace: str
    object: dict[str, Any]
    dry_run: bool = False


def quoted(value: object) -> str:
    """A short, safe rendering of an untrusted value for a message."""
    text = repr(value)
    return text if len(text) <= _MAX_QUOTED else text[: _MAX_QUOTED - 3] + "..."


def parse(body: bytes) -> Review:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise NotAReview("the body is not JSON; send an AdmissionReview (v1)") from None
    if not isinstance(document, dict):
        raise NotAReview("the body is not a JSON object; send an AdmissionReview")
    if document.get("apiVersion") != API_VERSION or document.get("kind") != KIND:
        raise NotAReview(
            f"apiVersion/kind: {quoted(document.get('apiVersion'))}/"
            f"{quoted(document.get('kind'))}; only {API_VERSION} {KIND} is served"
        )
    request = document.get("request")
    if not isinstance(request, dict):
        raise NotAReview("request: missing or not an object")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise NotAReview("request.uid: missing or not a string")
    try:
        return Review(
            uid=uid,
            kind=_kind(request),
            operation=_string(request, "operation"),
            namespace=_string(request, "namespace", required=False),
            object=_object(request),
            dry_run=request.get("dryRun") is True,
        )
    except MalformedReview as e:
        raise MalformedReview(str(e), uid) from None


def _kind(request: dict[str, Any]) -> str:
    kind = request.get("kind")
    if not isinstance(kind, dict) or not isinstance(kind.get("kind"), str):
        raise MalformedReview("request.kind.kind: missing or not a string")
    group = kind.get("group", "")
    return str(kind["kind"]) if group in ("", None) else f"{kind['kind']}.{group}"


def _string(request: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = request.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise MalformedReview(f"request.{key}: {quoted(value)} is not a string")
    return value


def _object(request: dict[str, Any]) -> dict[str, Any]:
    value = request.get("object")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedReview(f"request.object: {quoted(type(value).__name__)} is not an object")
    return value


def allowed(uid: str, patch: list[dict[str, Any]] | None = None) -> AdmissionReview:
    response: ResponsePayload = {"uid": uid, "allowed": True}
    if patch:
        encoded = json.dumps(patch, separators=(",", ":")).encode("utf-8")
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(encoded).decode("ascii")
    return {"apiVersion": API_VERSION, "kind": KIND, "response": response}


def denied(uid: str, message: str, code: int = 403) -> AdmissionReview:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "response": {
            "uid": uid,
            "allowed": False,
            "status": {"code": code, "message": message, "reason": "Forbidden"},
        },
    }


def decoded_patch(review: AdmissionReview) -> list[dict[str, Any]]:
    """The JSON patch a response carries (``[]`` when none): for tests and tools."""
    encoded = review.get("response", {}).get("patch")
    if not encoded:
        return []
    patch: list[dict[str, Any]] = json.loads(base64.b64decode(encoded))
    return patch
