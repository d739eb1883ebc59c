"""What a reconcile reports: the state and a reason/message pair for the resource's status and
for dev mode's console. Messages name the field and what to do; never a secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from strongroom_core.storage import records

State = Literal["Ready", "Pending", "Invalid", "Expired", "NeedsReauth", "Revoked"]


@dataclass(frozen=True, slots=True)
class Outcome:
    state: State
    reason: str
    """CamelCase, for a condition's ``reason``."""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "Ready"


READY = Outcome("Ready", "Reconciled")


def invalid(reason: str, message: str) -> Outcome:
    return Outcome("Invalid", reason, message)


def pending(reason: str, message: str) -> Outcome:
    return Outcome("Pending", reason, message)


def of_record(record: records.GrantRecord) -> Outcome:
    """A Grant's outcome as its sealed record states it (the sidecars write ``NeedsReauth``,
    expiry and revocation there)."""
    if record.state == "Ready":
        return READY
    if record.state == "Expired":
        return Outcome("Expired", "GrantExpired", "the grant's expiry has passed")
    if record.state == "NeedsReauth":
        return Outcome(
            "NeedsReauth",
            "ReauthorizationRequired",
            record.message or "the provider refused the refresh token; authorize again",
        )
    return Outcome("Revoked", "GrantRevoked", record.message or "revoked")
