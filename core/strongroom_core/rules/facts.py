"""What a decision is made about (:class:`CallFacts`) and what it answers (:class:`Decision`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from strongroom_core.rules import narrowing as narrowing_module

DecisionCode = Literal["allowed", "policy_denied", "rate_limited", "quota_exceeded"]


@dataclass(frozen=True, slots=True)
class CallFacts:
    """One call as the sidecar resolved it. Build it after the target passed
    ``targets.check_target``: ``host`` and ``path`` must be that check's normalised ones."""

    grant: str
    provider: str
    principal_kind: str
    """``user``, ``group``, ``system`` or ``agent``: the grant's principal."""
    caller: str
    """The caller as audit names it: ``agent/<name>`` for an agent, else ``pod/<name>``."""
    method: str
    """Upper-case HTTP method."""
    host: str
    """Normalised target host (lower-case ASCII, IPv6 without brackets)."""
    path: str
    """``Target.path_and_query``; the query is ignored by rules."""
    source_ip: str | None = None
    """The caller's source address; ``None`` when unknown (every source range rule denies)."""
    port: int | None = None
    """Target port, ``None`` for the scheme's default (for ``hosts`` rules with ports)."""
    narrowing: narrowing_module.Narrowing | None = None
    """What the caller asked to be narrowed to (``Strongroom-Narrow``), if anything."""


@dataclass(frozen=True, slots=True)
class Decision:
    """Allow or deny, with the reason that goes into audit."""

    allowed: bool
    reason: str
    """Stable and human: ``method DELETE not in [GET, POST] (rule 2 of App demo)``."""
    rule: str | None
    """Where the deciding rule lives: ``spec.policy.rules[2]``, ``Grant gh spec.restrictions``,
    ``Strongroom-Narrow``; ``None`` for an allow, or a deny no rule caused."""
    code: DecisionCode = "allowed"
    """``policy_denied`` (403), ``rate_limited`` and ``quota_exceeded`` (429) for denials."""
    retry_after: float | None = None
    """Seconds until a rate-limited or quota-exceeded call could pass."""
