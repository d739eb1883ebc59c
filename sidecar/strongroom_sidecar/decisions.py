"""The allow/deny decision for a resolved grant. Default deny: only what is proven fine passes.

This is the grant-state half of the decision: the grant's state, its expiry and whether the
compiled policy lists the grant for this provider and principal. The policy rules (methods,
paths, time windows, source ranges, limits, narrowing) are decided after it, by
``strongroom_core.rules`` compiled into ``AppState.rules`` (see ``Proxy._rules``).
"""

from __future__ import annotations

from dataclasses import dataclass

from strongroom_core import policy
from strongroom_core.storage import records
from strongroom_sidecar import problems


@dataclass(frozen=True, slots=True)
class Decision:
    reason: str
    """Why the call may go on; recorded in audit."""


def decide(
    record: records.GrantRecord, compiled: policy.CompiledPolicy | None, now: float
) -> Decision:
    """Allow with a reason, or raise the :class:`problems.Refusal` that says why not."""
    listed = (compiled.get("grants") or {}).get(record.name) if compiled is not None else None
    principal = {"kind": record.principal_kind, "id": record.principal_id}
    if listed is None or listed.get("provider") != record.provider:
        raise problems.Refusal(
            "policy_denied",
            f"grant {record.name!r} is not in the App's compiled policy for provider "
            f"{record.provider!r}; wait for the operator to reconcile it",
        )
    if listed.get("principal") not in (None, principal):
        raise problems.Refusal(
            "policy_denied", f"grant {record.name!r}: principal differs from the compiled policy"
        )
    if record.state == "Revoked":
        raise problems.Refusal("grant_revoked", f"grant {record.name!r} was revoked")
    if record.state == "Expired" or (
        record.grant_expires_at is not None and record.grant_expires_at <= now
    ):
        raise problems.Refusal(
            "grant_expired", f"grant {record.name!r} has expired; create a new one or extend it"
        )
    if record.state == "NeedsReauth":
        raise problems.Refusal(
            "reauthorization_required",
            f"grant {record.name!r} needs to be authorized again"
            + (f": {record.message[:200]}" if record.message else ""),
        )
    if record.state != "Ready" or not record.sealed:
        raise problems.Refusal(
            "credential_unavailable",
            f"grant {record.name!r} is not ready (state {record.state}); "
            "it may still lack a credential",
        )
    return Decision(reason=f"grant {record.name} ready")
