"""Agents as this sidecar knows them: compiled from the policy once per update, so
authenticating a ``Strongroom-Agent-Key`` is a dict lookup by key id, one SHA-256 and one
constant-time comparison.

A key is refused (``401 invalid_agent_key``) when it is malformed, its kid is unknown, its hash
does not match, or its ``notAfter`` has passed (rotation overlap over); a suspended agent gets
``403 agent_suspended``. The policy arrives on the watch stream, so suspend, resume and rotation
take effect within the stream's latency (about a second).
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass

from strongroom_core import policy
from strongroom_core.agents import access, keys
from strongroom_sidecar import headers, logs, problems

log = logs.get("agents")


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    suspended: bool
    access: access.AccessSet

    @property
    def caller(self) -> str:
        """The caller as audit and rules name it."""
        return f"agent/{self.name}"


@dataclass(frozen=True, slots=True)
class _Key:
    agent: str
    sha256: str
    not_after: float


class Agents:
    def __init__(self, by_name: dict[str, Agent], by_kid: dict[str, _Key]) -> None:
        self.by_name = by_name
        self._by_kid = by_kid

    @classmethod
    def compile(cls, wire: dict[str, policy.AgentPolicy] | None) -> Agents:
        by_name: dict[str, Agent] = {}
        by_kid: dict[str, _Key] = {}
        for name, entry in (wire or {}).items():
            try:
                agent = Agent(
                    name,
                    bool(entry["suspended"]),
                    access.AccessSet.from_wire(name, entry["access"]),
                )
                found = {
                    k["kid"]: _Key(name, str(k["sha256"]), float(k.get("notAfter", math.inf)))
                    for k in entry["keys"]
                }
            except (KeyError, TypeError, ValueError) as e:
                # Left out: its keys are refused, which is the safe side.
                log.error(
                    "agent left out of the compiled policy",
                    extra={"fields": {"agent": name, "error": type(e).__name__}},
                )
                continue
            by_name[name] = agent
            by_kid.update(found)
        return cls(by_name, by_kid)

    def authenticate(self, key: str, now: float) -> Agent:
        """The agent the key belongs to, or the :class:`problems.Refusal` saying why not."""
        try:
            kid = keys.kid_of(key)
        except keys.KeyFormatError as e:
            raise problems.Refusal(
                "invalid_agent_key", f"{headers.AGENT_KEY}: {e}", reason="malformed key"
            ) from None
        entry = self._by_kid.get(kid)
        if entry is None or not hmac.compare_digest(keys.digest(key), entry.sha256):
            raise problems.Refusal(
                "invalid_agent_key",
                f"{headers.AGENT_KEY}: key {kid} is not a key of any agent of this App (revoked, "
                "pruned, or mistyped)",
                reason=f"key {kid} unknown or its hash does not match",
            )
        if now >= entry.not_after:
            raise problems.Refusal(
                "invalid_agent_key",
                f"{headers.AGENT_KEY}: key {kid} of agent {entry.agent} was rotated and its "
                "overlap has ended; use the agent's current key",
                reason=f"key {kid} of agent {entry.agent} past its notAfter",
            )
        agent = self.by_name[entry.agent]
        if agent.suspended:
            raise problems.Refusal(
                "agent_suspended",
                f"agent {agent.name} is suspended (spec.suspended); resume it to make calls",
                reason=f"agent {agent.name} suspended",
            )
        return agent


EMPTY = Agents({}, {})
