"""Keeps each App's compiled policy current: every handler whose resource feeds a policy (the
App, its Providers, Grants and Agents) asks :meth:`PolicyPublisher.refresh` after it changed.

One compile per App at a time (a lock per App), taken from the indexes as they are when the
compile starts; a request made before a compile started is answered by that compile, so a burst
of 1,000 Grant events costs a few compiles rather than 1,000 and the last one always sees the
newest state (a compile from an older snapshot can never be published after a newer one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from strongroom_core.resources import models
from strongroom_operator.kopfhandlers import indexes
from strongroom_operator.reconcile import agents, context, outcomes, policies

KeyDelivery = Callable[[models.Agent, agents.IssuedKey], Awaitable[None]]


class PolicyPublisher:
    def __init__(self, ctx: context.ReconcileContext, deliver_key: KeyDelivery) -> None:
        self._ctx = ctx
        self._deliver_key = deliver_key
        self._locks: dict[indexes.AppKey, asyncio.Lock] = {}
        self._requested: dict[indexes.AppKey, int] = {}
        self._compiled: dict[indexes.AppKey, int] = {}
        self.outcomes: dict[models.Ref, outcomes.Outcome] = {}
        """The latest outcome per Provider and Agent from a compile (client secret resolved,
        agent keys usable); their handlers report it."""

    def __repr__(self) -> str:
        return f"PolicyPublisher(<{len(self._compiled)} Apps>)"

    async def refresh(self, view: indexes.View, namespace: str, app: str) -> None:
        """Compile and publish the App's policy unless a compile that started after this call
        already did. Without the App (not applied yet, or invalid) there is nothing to do."""
        key = (namespace, app)
        ticket = self._requested[key] = self._requested.get(key, 0) + 1
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if self._compiled.get(key, 0) >= ticket:
                return
            started = self._requested[key]
            await self._compile(view, namespace, app)
            self._compiled[key] = started

    async def _compile(self, view: indexes.View, namespace: str, name: str) -> None:
        app = view.app(namespace, name)
        if app is None:
            return
        providers = view.providers(namespace, name)
        agent_list = view.agents(namespace, name)
        sealed, provider_outcomes = await policies.seal_client_secrets(self._ctx, app, providers)
        agent_wire, issued, agent_outcomes = await agents.agent_policies(self._ctx, app, agent_list)
        compiled = policies.compile_policy(
            app, providers, view.grants(namespace, name), sealed, agents=agent_wire
        )
        await policies.publish_policy(self._ctx, compiled)
        self.outcomes.update(provider_outcomes)
        self.outcomes.update(agent_outcomes)
        by_name = {a.meta.name: a for a in agent_list}
        for key in issued:
            if key.agent in by_name:
                await self._deliver_key(by_name[key.agent], key)

    def forget(self, namespace: str, app: str) -> None:
        """The App is gone: drop its bookkeeping."""
        key = (namespace, app)
        self._requested.pop(key, None)
        self._compiled.pop(key, None)
