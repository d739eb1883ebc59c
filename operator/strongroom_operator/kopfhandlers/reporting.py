"""Status patches and Events for a reconcile's outcome.

Events are posted for what a person should notice, and only on a change, so a resumed operator
does not repeat them: a Warning when a resource becomes not Ready (or its reason changes), a
Normal one when it recovers. Messages never hold a secret: outcomes are written that way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from strongroom_operator.kopfhandlers import conditions
from strongroom_operator.reconcile import outcomes


def report(
    body: kopf.Body,
    patch: kopf.Patch,
    outcome: outcomes.Outcome,
    now: float,
    *,
    with_state: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> None:
    current = dict(body.get("status") or {})
    generation = int(body.get("metadata", {}).get("generation") or 0)
    status = conditions.status_of(current, outcome, generation, now, with_state=with_state)
    status.update(extra or {})
    if conditions.differs(current, status):
        for key, value in status.items():
            patch.status[key] = value
    announce(body, current, outcome)


def announce(body: kopf.Body, current: Mapping[str, Any], outcome: outcomes.Outcome) -> None:
    previous = _ready(current)
    if previous is not None and previous.get("reason") == outcome.reason:
        return
    if not outcome.ok:
        kopf.event(body, type="Warning", reason=outcome.reason, message=outcome.message)
    elif previous is not None and previous.get("status") != "True":
        kopf.event(body, type="Normal", reason=outcome.reason, message="ready again")


def _ready(status: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for condition in status.get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == conditions.READY:
            return condition
    return None


def retry_delay(retry: int, base: float, ceiling: float) -> float:
    return float(min(ceiling, base * (2 ** min(retry, 16))))
