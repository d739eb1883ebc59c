"""What an Agent's access set allows (docs/agents.md), decided without I/O.

An Agent may use:

- its own grants (principal ``agent:<name>``): they were made for it;
- a grant named in an access entry ``{grant: NAME}``;
- a grant of a provider named in an access entry ``{provider: NAME, scopes: [...]}``: without
  ``scopes`` any grant of that provider; with ``scopes`` only a grant whose scopes are all in
  the list (a grant that could do more than the agent is allowed is refused, never narrowed);

and nothing else. Another agent's grant is never usable, whatever the access set says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from strongroom_core import policy


@dataclass(frozen=True, slots=True)
class Entry:
    index: int
    grant: str | None
    provider: str | None
    scopes: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class AccessSet:
    agent: str
    entries: tuple[Entry, ...]
    grants: frozenset[str]
    providers: frozenset[str]

    @classmethod
    def from_wire(cls, agent: str, access: Sequence[policy.AgentAccessWire]) -> AccessSet:
        entries: list[Entry] = []
        for index, item in enumerate(access):
            scopes = item.get("scopes")
            entries.append(
                Entry(
                    index,
                    item.get("grant"),
                    item.get("provider"),
                    None if scopes is None else frozenset(scopes),
                )
            )
        return cls(
            agent,
            tuple(entries),
            frozenset(e.grant for e in entries if e.grant),
            frozenset(e.provider for e in entries if e.provider),
        )

    def allows_provider(self, provider: str) -> bool:
        return provider in self.providers

    def check(
        self,
        grant: str,
        provider: str,
        principal_kind: str,
        principal_id: str,
        scopes: Sequence[str],
    ) -> tuple[bool, str]:
        """``(allowed, reason)``; the reason names the access entry or says what is missing."""
        if principal_kind == "agent":
            if principal_id == self.agent:
                return True, f"agent {self.agent}'s own grant {grant}"
            return False, (
                f"grant {grant} belongs to agent {principal_id}; agent {self.agent} may not use "
                "another agent's grant"
            )
        refusals: list[str] = []
        for entry in self.entries:
            if entry.grant is not None and entry.grant == grant:
                return True, f"agent {self.agent} spec.access[{entry.index}] names grant {grant}"
            if entry.provider is not None and entry.provider == provider:
                if entry.scopes is None:
                    return True, (
                        f"agent {self.agent} spec.access[{entry.index}] allows provider {provider}"
                    )
                beyond = sorted(set(scopes) - entry.scopes)
                if not beyond:
                    return True, (
                        f"agent {self.agent} spec.access[{entry.index}] allows provider "
                        f"{provider} with scopes [{', '.join(sorted(entry.scopes))}]"
                    )
                refusals.append(
                    f"spec.access[{entry.index}] allows provider {provider} only with scopes "
                    f"[{', '.join(sorted(entry.scopes))}] and grant {grant} also has "
                    f"[{', '.join(beyond[:10])}]"
                )
        if refusals:
            return False, f"agent {self.agent}: " + "; ".join(refusals)
        return False, (
            f"agent {self.agent}'s access set (spec.access) names neither grant {grant} nor "
            f"provider {provider}; add one of them to the Agent"
        )
