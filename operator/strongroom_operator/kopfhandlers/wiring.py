"""The decorator module: wires kopf events to the handler functions, and nothing else.

Every kind reconciles on create, update and resume with one idempotent function (a restart in
the middle of a reconcile runs it again and converges). Only Grants carry a finalizer (their
deletion revokes at the provider and deletes the sealed record); Apps, Providers and Agents are
cleaned up best effort (their deletion only re-publishes the App's policy; an Agent's key Secret
goes with it by owner reference).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import kopf

from strongroom_core.resources import models
from strongroom_operator.kopfhandlers import (
    agents,
    apps,
    grants,
    grantwatch,
    indexes,
    providers,
    runtime,
)
from strongroom_operator.kopfhandlers import settings as operator_settings

FINALIZER = "strongroom.dev/finalizer"
PREFIX = "kopf.strongroom.dev"
"""kopf's own annotations (progress, last handled spec). Not ``strongroom.dev``: kopf ignores
every annotation under its storage prefix when diffing, and the user-facing
``strongroom.dev/rotate-key`` must trigger a reconcile."""
G, V = models.GROUP, models.VERSION
_F = TypeVar("_F", bound=Callable[..., Any])


@dataclasses.dataclass
class Holder:
    """The runtime, once startup built it (handlers run only after startup)."""

    current: runtime.Runtime | None = None

    def get(self) -> runtime.Runtime:
        if self.current is None:  # pragma: no cover - kopf runs startup first
            raise RuntimeError("the operator has not started")
        return self.current


def configure(settings: kopf.OperatorSettings, config: operator_settings.OperatorSettings) -> None:
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=PREFIX, key="last-handled-configuration"
    )
    settings.posting.level = logging.WARNING  # kopf's own "handler succeeded" logs: no Events
    settings.watching.server_timeout = int(config.watch_timeout)
    settings.watching.reconnect_backoff = config.reconnect_backoff
    settings.peering.priority = config.priority
    if config.peering is not None:
        settings.peering.name = config.peering
        settings.peering.mandatory = True


def build_registry(
    config: operator_settings.OperatorSettings, registry: kopf.OperatorRegistry | None = None
) -> kopf.OperatorRegistry:
    registry = registry if registry is not None else kopf.OperatorRegistry()
    holder = Holder()
    on = kopf.on

    @on.startup(registry=registry)
    async def start(settings: kopf.OperatorSettings, **_: Any) -> None:
        configure(settings, config)
        holder.current = await runtime.Runtime.start(config)

    @on.cleanup(registry=registry)
    async def stop(**_: Any) -> None:
        if holder.current is not None:
            await holder.current.close()

    index = indexes.index_function(allow_loopback_http=config.allow_loopback_http)
    for plural, index_id in (
        ("apps", indexes.APPS),
        ("providers", indexes.PROVIDERS),
        ("grants", indexes.GRANTS),
        ("agents", indexes.AGENTS),
    ):
        kopf.index(G, V, plural, id=index_id, registry=registry)(index)

    def reconciling(plural: str, handler_id: str) -> Callable[[_F], _F]:
        def wire(function: _F) -> _F:
            for decorator in (on.create, on.update, on.resume):
                decorator(G, V, plural, id=handler_id, registry=registry)(function)
            return function

        return wire

    @reconciling("apps", "app")
    async def app(body: kopf.Body, patch: kopf.Patch, **kwargs: Any) -> None:
        await apps.reconcile(holder.get(), indexes.View(kwargs), body, patch)

    @on.delete(G, V, "apps", id="app-deleted", optional=True, registry=registry)
    async def app_deleted(body: kopf.Body, **_: Any) -> None:
        await apps.deleted(holder.get(), body)

    if config.ca_source is not None:

        @kopf.timer(
            G, V, "apps", id="app-ca-bundle", interval=config.ca_check_seconds, registry=registry
        )
        async def app_ca_bundle(body: kopf.Body, **_: Any) -> None:
            await apps.keep_ca_bundle(holder.get(), body)

    @on.probe(id="operator", registry=registry)
    def probe(**_: Any) -> str:
        """kopf's health endpoint (``--liveness``) answers only once startup has finished;
        this says which control-plane namespace the replica serves."""
        return holder.get().settings.namespace

    @reconciling("providers", "provider")
    async def provider(body: kopf.Body, patch: kopf.Patch, retry: int, **kwargs: Any) -> None:
        await providers.reconcile(holder.get(), indexes.View(kwargs), body, patch, retry)

    @on.delete(G, V, "providers", id="provider-deleted", optional=True, registry=registry)
    async def provider_deleted(body: kopf.Body, **kwargs: Any) -> None:
        await providers.deleted(holder.get(), indexes.View(kwargs), body)

    @reconciling("grants", "grant")
    async def grant(body: kopf.Body, patch: kopf.Patch, retry: int, **kwargs: Any) -> None:
        await grants.reconcile(holder.get(), indexes.View(kwargs), body, patch, retry)

    @on.delete(G, V, "grants", id="grant-finalizer", registry=registry)
    async def grant_finalizer(body: kopf.Body, retry: int, **kwargs: Any) -> None:
        await grants.finalize(holder.get(), indexes.View(kwargs), body, retry)

    @kopf.daemon(G, V, "grants", id="grant-watch", cancellation_timeout=0, registry=registry)
    async def grant_watch(body: kopf.Body, stopped: kopf.DaemonStopped, **_: Any) -> None:
        await grantwatch.watch(holder.get(), body, stopped)

    @reconciling("agents", "agent")
    async def agent(body: kopf.Body, patch: kopf.Patch, retry: int, **kwargs: Any) -> None:
        await agents.reconcile(holder.get(), indexes.View(kwargs), body, patch, retry)

    @on.delete(G, V, "agents", id="agent-deleted", optional=True, registry=registry)
    async def agent_deleted(body: kopf.Body, **kwargs: Any) -> None:
        app_ref = body.get("spec", {}).get("appRef")
        namespace = body.get("metadata", {}).get("namespace", "")
        if isinstance(app_ref, str):
            await holder.get().publisher.refresh(indexes.View(kwargs), namespace, app_ref)

    return registry
