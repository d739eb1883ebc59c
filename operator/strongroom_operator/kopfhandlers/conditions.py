"""Status in the Kubernetes conventions: a ``Ready`` condition with type, status, reason,
message, observedGeneration and lastTransitionTime, where lastTransitionTime moves only when
the condition's status flips (so ``kubectl wait`` and alerting see real transitions).

Apps, Providers and Agents carry ``observedGeneration`` and ``conditions`` (their CRDs have no
other status fields); Grants also carry ``state`` and ``message`` (the printer column).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from strongroom_operator.reconcile import outcomes

READY = "Ready"


def rfc3339(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def ready_condition(
    previous: Any, outcome: outcomes.Outcome, generation: int, now: float
) -> dict[str, Any]:
    status = "True" if outcome.ok else "False"
    old = _find(previous, READY)
    changed = old is None or old.get("status") != status
    transition = rfc3339(now)
    if not changed and old is not None and old.get("lastTransitionTime"):
        transition = str(old["lastTransitionTime"])
    return {
        "type": READY,
        "status": status,
        "reason": outcome.reason,
        "message": outcome.message or _default_message(outcome),
        "observedGeneration": generation,
        "lastTransitionTime": transition,
    }


def status_of(
    current: Mapping[str, Any] | None,
    outcome: outcomes.Outcome,
    generation: int,
    now: float,
    *,
    with_state: bool = False,
) -> dict[str, Any]:
    """The status to merge-patch: the ``Ready`` condition replaced, other conditions kept."""
    current = current or {}
    previous = current.get("conditions")
    others = [
        dict(c)
        for c in (previous if isinstance(previous, list) else [])
        if isinstance(c, Mapping) and c.get("type") != READY
    ]
    status: dict[str, Any] = {
        "observedGeneration": generation,
        "conditions": [ready_condition(previous, outcome, generation, now), *others],
    }
    if with_state:
        status["state"] = outcome.state
        status["message"] = outcome.message or _default_message(outcome)
    return status


def differs(current: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> bool:
    """Whether patching ``wanted`` would change anything (avoids needless writes)."""
    current = current or {}
    return any(current.get(key) != value for key, value in wanted.items())


def _find(conditions: Any, kind: str) -> dict[str, Any] | None:
    if not isinstance(conditions, list):
        return None
    for condition in conditions:
        if isinstance(condition, Mapping) and condition.get("type") == kind:
            return dict(condition)
    return None


def _default_message(outcome: outcomes.Outcome) -> str:
    if outcome.ok:
        return "reconciled"
    return outcome.reason
