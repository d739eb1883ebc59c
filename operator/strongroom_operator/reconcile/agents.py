"""Agent reconcile: each Agent has a keys document (only SHA-256 hashes of its API keys), and
the App's compiled policy carries what its sidecars need to authenticate and authorize it.

The first key of a new Agent is generated here, and its plaintext must reach a person exactly
once: :func:`agent_policies` returns it to the caller as an :class:`IssuedKey` (dev mode writes
it to ``<state>/agents/<name>.key`` with mode 0600; in a cluster the operator writes it into a
Secret). Nothing stores the plaintext. :func:`rotate_key` (the control plane's admin endpoint)
adds a key, sets the older keys' ``notAfter`` to ``now + overlap`` and patches the stored
policy at once, so the new key works within the watch's latency, without a reconcile.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from strongroom_core import policy
from strongroom_core.agents import keys
from strongroom_core.resources import models
from strongroom_core.storage import errors as storage_errors
from strongroom_core.storage import ports
from strongroom_operator.reconcile import context, outcomes, policies

ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key generated for an Agent; ``plaintext`` is to be handed over once, then dropped."""

    namespace: str
    app: str
    agent: str
    kid: str
    plaintext: str = field(repr=False)
    not_after_previous: float | None = None
    """When the keys this one replaces stop working (rotation); ``None`` for a first key."""


class AgentNotFound(LookupError):
    """No keys document or no policy entry for the Agent (not reconciled yet, or no such one)."""


async def ensure_keys(
    ctx: context.ReconcileContext, agent: models.Agent
) -> tuple[dict[str, Any], IssuedKey | None]:
    """The Agent's keys document, created with a first key when missing (or when it belonged
    to an earlier Agent of the same name, by uid); expired keys are pruned."""
    namespace, name = agent.meta.namespace, agent.meta.name
    document_name = keys.document_name(name)
    for _ in range(ATTEMPTS):
        now = ctx.clock()
        stored = await ctx.storage.get_document(namespace, agent.app_ref, document_name)
        fresh = stored is None or _belongs_to_another(stored.body, agent) or not _usable(stored)
        try:
            if fresh:
                first = keys.generate()
                body = keys.new_document(first, now)
                if agent.meta.uid:
                    body["agentUid"] = agent.meta.uid
                await ctx.storage.put_document(
                    namespace,
                    agent.app_ref,
                    document_name,
                    body,
                    None if stored is None else stored.version,
                )
                issued = IssuedKey(namespace, agent.app_ref, name, first.kid, first.plaintext)
                return body, issued
            assert stored is not None
            pruned = keys.prune(stored.body, now)
            if len(pruned["keys"]) != len(stored.body["keys"]):
                _keep_extras(stored.body, pruned)
                await ctx.storage.put_document(
                    namespace, agent.app_ref, document_name, pruned, stored.version
                )
                return pruned, None
            return stored.body, None
        except (storage_errors.ConflictError, storage_errors.AlreadyExistsError):
            continue
    raise storage_errors.ConflictError(f"agent keys of {namespace}/{name}", None, None)


def agent_policy(agent: models.Agent, document: dict[str, Any]) -> policy.AgentPolicy:
    access: list[policy.AgentAccessWire] = []
    for entry in agent.access:
        item: policy.AgentAccessWire = {}
        if entry.grant is not None:
            item["grant"] = entry.grant
        if entry.provider is not None:
            item["provider"] = entry.provider
            if entry.scopes is not None:
                item["scopes"] = list(entry.scopes)
        access.append(item)
    return {
        "suspended": agent.suspended,
        "access": access,
        "keys": cast(list[policy.AgentKeyWire], keys.wire(document)),
    }


async def agent_policies(
    ctx: context.ReconcileContext, app: models.App, agents: Iterable[models.Agent]
) -> tuple[dict[str, policy.AgentPolicy], list[IssuedKey], dict[models.Ref, outcomes.Outcome]]:
    """For the Agents of ``app``: their policy entries, the keys generated now (hand each
    plaintext over once), and an outcome per Agent."""
    namespace, name = app.key
    compiled: dict[str, policy.AgentPolicy] = {}
    issued: list[IssuedKey] = []
    results: dict[models.Ref, outcomes.Outcome] = {}
    for agent in agents:
        if agent.meta.namespace != namespace or agent.app_ref != name:
            continue
        try:
            document, new = await ensure_keys(ctx, agent)
        except keys.KeysDocumentError as e:
            results[agent.ref] = outcomes.invalid("KeysDocumentInvalid", f"agent keys: {e}")
            continue
        compiled[agent.meta.name] = agent_policy(agent, document)
        if new is not None:
            issued.append(new)
        results[agent.ref] = (
            outcomes.Outcome("Ready", "Suspended", "spec.suspended is true: calls are refused")
            if agent.suspended
            else outcomes.READY
        )
    return compiled, issued, results


async def rotate_key(
    storage: ports.Storage,
    namespace: str,
    app: str,
    agent: str,
    *,
    now: float,
    overlap: float,
) -> IssuedKey:
    """Add a new key to ``agent``; the older keys stop working at ``now + overlap``. The stored
    compiled policy is patched in the same call (compare-and-swap on both documents), so
    sidecars see the new key on their watch stream. :class:`AgentNotFound` when the Agent has
    no keys yet or is not in the App's policy."""
    document_name = keys.document_name(agent)
    for _ in range(ATTEMPTS):
        stored = await storage.get_document(namespace, app, document_name)
        if stored is None:
            raise AgentNotFound(
                f"agent {agent!r} of App {namespace}/{app} has no keys; is the Agent applied "
                "and reconciled?"
            )
        rotated, new = keys.rotate(stored.body, now, overlap)
        _keep_extras(stored.body, rotated)
        try:
            await storage.put_document(namespace, app, document_name, rotated, stored.version)
        except storage_errors.ConflictError:
            continue
        await _patch_policy(storage, namespace, app, agent, rotated)
        return IssuedKey(namespace, app, agent, new.kid, new.plaintext, now + overlap)
    raise storage_errors.ConflictError(f"agent keys of {namespace}/{app}/{agent}", None, None)


async def _patch_policy(
    storage: ports.Storage, namespace: str, app: str, agent: str, document: dict[str, Any]
) -> None:
    for _ in range(ATTEMPTS):
        stored = await storage.get_document(namespace, app, policies.POLICY_DOCUMENT)
        entry = (stored.body.get("agents") or {}).get(agent) if stored is not None else None
        if stored is None or not isinstance(entry, dict):
            raise AgentNotFound(
                f"agent {agent!r} is not in the compiled policy of App {namespace}/{app}"
            )
        body = copy.deepcopy(stored.body)
        body["agents"][agent]["keys"] = keys.wire(document)
        body["digest"] = policies.policy_digest(body)
        try:
            await storage.put_document(
                namespace, app, policies.POLICY_DOCUMENT, body, stored.version
            )
        except storage_errors.ConflictError:
            continue
        return
    raise storage_errors.ConflictError(f"policy of App {namespace}/{app}", None, None)


def _belongs_to_another(body: dict[str, Any], agent: models.Agent) -> bool:
    owner = body.get("agentUid")
    return bool(agent.meta.uid and owner and owner != agent.meta.uid)


def _usable(stored: Any) -> bool:
    try:
        keys.check_document(stored.body)
    except keys.KeysDocumentError:
        return False
    return True


def _keep_extras(old: dict[str, Any], new: dict[str, Any]) -> None:
    if "agentUid" in old:
        new["agentUid"] = old["agentUid"]
