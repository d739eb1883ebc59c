"""Refused callers: the problem codes of sidecar authentication and the audit record each
refusal leaves.

Codes (status): ``token_rejected`` 401 (the API server did not authenticate the token),
``wrong_audience`` 401 (not issued for audience ``strongroom``), ``not_a_pod_token`` 401 (a
ServiceAccount token not bound to a pod), ``pod_not_found`` 401 (its pod is gone),
``pod_replaced`` 401 (a pod of that name exists with another uid), ``not_a_service_account``
403 (a user who is not an admin), ``sidecar_missing`` 403 (the pod has no injected native
sidecar), ``sidecar_image_mismatch`` 403, ``app_annotation_missing`` 403, ``app_not_found`` 403,
``service_account_not_allowed`` 403, ``review_unavailable`` 503 (the Kubernetes API could not be
asked; nothing is refused for good, so nothing is audited).

An authenticated caller asking for another App's path (the routes' ``require_app``) keeps its
plain ``forbidden`` 403 and is audited the same way (:func:`record_forbidden`).

The audit record (kind ``auth.refused``) names who was refused (``pod/<name>`` or
``serviceaccount/<namespace>/<name>`` or ``unknown``), the namespace and App when known, and the
reason; never the token.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from strongroom_core import audit
from strongroom_operator.controlplane import problems

logger = logging.getLogger("strongroom.controlplane")

AUTH_REFUSED: audit.EventKind = "auth.refused"
"""Audit kind of a refused caller: core's ``audit.EventKind`` value (mypy holds it to that)."""

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="strongroom"'}

STATUS = {
    "token_rejected": 401,
    "wrong_audience": 401,
    "not_a_pod_token": 401,
    "pod_not_found": 401,
    "pod_replaced": 401,
    "not_a_service_account": 403,
    "sidecar_missing": 403,
    "sidecar_image_mismatch": 403,
    "app_annotation_missing": 403,
    "app_not_found": 403,
    "service_account_not_allowed": 403,
}


class AuditSink(Protocol):
    async def append_audit(self, events: Sequence[dict[str, Any]]) -> int: ...


class Refused(problems.ProblemError):
    """A caller refused for good: rendered as a problem, recorded in audit."""

    def __init__(
        self, code: str, detail: str, *, who: str = "unknown", namespace: str = "", app: str = ""
    ) -> None:
        status = STATUS[code]
        super().__init__(status, code, detail, headers=CHALLENGE if status == 401 else None)
        self.who = who
        self.namespace = namespace
        self.app = app


def audit_event(refusal: Refused) -> dict[str, Any]:
    return _event(refusal, refusal.who, refusal.namespace, refusal.app)


def _event(problem: problems.ProblemError, who: str, namespace: str, app: str) -> dict[str, Any]:
    event = audit.lifecycle_event(
        AUTH_REFUSED,
        namespace=namespace,
        app=app,
        caller=who,
        status=problem.status,
        decision="deny",
        reason=f"{problem.code}: {problem.detail}",
    )
    return dict(event)


async def record(sink: AuditSink | None, refusal: Refused) -> None:
    """Audit the refusal; an audit store that is down is logged, and the caller is refused
    all the same."""
    await _record(sink, refusal.who, audit_event(refusal))


async def record_forbidden(
    sink: AuditSink | None, problem: problems.ProblemError, who: str, namespace: str, app: str
) -> None:
    """Audit an authenticated caller refused a path (``auth.require_app``: a sidecar asking for
    another App's keys, grants or watch, or an admin asking for key material). ``namespace`` and
    ``app`` are the App asked for; the reason names the caller's own."""
    await _record(sink, who, _event(problem, who, namespace, app))


async def _record(sink: AuditSink | None, who: str, event: dict[str, Any]) -> None:
    logger.warning("refused %s: %s", who, str(event["reason"]).partition(":")[0])
    if sink is None:
        return
    try:
        await sink.append_audit([event])
    except Exception as e:  # the refusal stands whatever the audit store does
        logger.error("could not audit the refusal of %s: %s", who, type(e).__name__)
