"""Agent: its entry in the App's policy (only key hashes, suspension, access set), its API key
in a Secret ``<agent>-strongroom-key`` of its namespace (owned by the Agent), and key rotation
on request: annotate ``strongroom.dev/rotate-key: <any new value>``; the older keys keep
working for ``spec.keyRotation.overlapSeconds``.

Crash safety: the Secret carries the rotation value it answers (``strongroom.dev/rotated-for``).
A rotation whose Secret was never written (a crash in between) is simply done again; an Agent
whose keys exist but whose Secret is missing (a crash after the first key, or someone deleted
it) gets a new key at once (overlap 0: the lost key must not keep working).
"""

from __future__ import annotations

import kopf

from strongroom_core.resources import models
from strongroom_operator.kopfhandlers import indexes, kubeio, preflight, reporting, runtime
from strongroom_operator.reconcile import agents, outcomes

ROTATE_KEY = "strongroom.dev/rotate-key"


async def reconcile(
    rt: runtime.Runtime, view: indexes.View, body: kopf.Body, patch: kopf.Patch, retry: int
) -> None:
    agent = await preflight.checked(rt, view, body, patch, retry, models.Agent)
    if agent is None:
        return
    await rt.publisher.refresh(view, agent.meta.namespace, agent.app_ref)
    outcome = rt.publisher.outcomes.get(agent.ref, outcomes.READY)
    if outcome.state != "Invalid":
        await _ensure_key_secret(rt, body, agent)
    reporting.report(body, patch, outcome, rt.clock())


async def _ensure_key_secret(rt: runtime.Runtime, body: kopf.Body, agent: models.Agent) -> None:
    namespace, name = agent.key
    secret = await kubeio.read_agent_key_secret(rt.kube, namespace, name)
    wanted = agent.meta.annotations.get(ROTATE_KEY)
    answered = None
    if secret is not None:
        answered = (secret.get("metadata", {}).get("annotations") or {}).get(kubeio.ROTATED_FOR)
    if secret is not None and (wanted is None or wanted == answered):
        return
    overlap = float(agent.key_overlap_seconds) if secret is not None else 0.0
    issued = await agents.rotate_key(
        rt.storage, namespace, agent.app_ref, name, now=rt.clock(), overlap=overlap
    )
    await kubeio.write_agent_key_secret(rt.kube, agent, issued.plaintext, issued.kid, wanted)
    if secret is None:
        message = f"a new API key {issued.kid} is in Secret {kubeio.agent_key_secret_name(name)}"
    else:
        message = (
            f"key rotated: the new key {issued.kid} is in Secret "
            f"{kubeio.agent_key_secret_name(name)}; older keys work for {int(overlap)} s more"
        )
    kopf.event(body, type="Normal", reason="KeyIssued", message=message)
