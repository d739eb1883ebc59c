"""The shared state of the control-plane handlers, stored on the aiohttp application."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from strongroom_core.sealing import publickey
from strongroom_core.storage import ports
from strongroom_operator.controlplane import auth, keyservice, problems, refusals, settings


class ControlPlane:
    """Everything a control-plane replica needs; stateless apart from caches, so several
    replicas can share one storage."""

    def __init__(
        self,
        storage: ports.Storage,
        key_service: keyservice.KeyService,
        sealing_key: publickey.SealingKey,
        authenticator: auth.Authenticator,
        settings: settings.ControlPlaneSettings | None = None,
    ) -> None:
        self.storage = storage
        self.key_service = key_service
        self.sealing_key = sealing_key
        self.authenticator = authenticator
        self.settings = settings or _default_settings()
        self.stopping = asyncio.Event()
        """Set when the server shuts down: watch streams end instead of holding it open."""
        self.watch_wakers: set[Callable[[], None]] = set()
        """One per open watch stream: wakes it so it sees ``stopping`` at once."""

    def stop_watches(self) -> None:
        self.stopping.set()
        for wake in list(self.watch_wakers):
            wake()

    def __repr__(self) -> str:
        return f"ControlPlane(storage={self.storage!r})"

    async def caller(self, request: web.Request) -> auth.Caller:
        return await auth.authenticate(request, self.authenticator)

    async def app_caller(
        self, request: web.Request, namespace: str, app: str, *, admin: bool
    ) -> auth.Caller:
        """The caller, when it may act for App ``namespace``/``app`` (``auth.require_app``);
        a refusal is audited as ``auth.refused`` before the 403 goes out."""
        caller = await self.caller(request)
        try:
            auth.require_app(caller, namespace, app, admin=admin)
        except problems.ProblemError as refusal:
            await refusals.record_forbidden(self.storage, refusal, caller.name, namespace, app)
            raise
        return caller


def _default_settings() -> settings.ControlPlaneSettings:
    return settings.ControlPlaneSettings()


CONTROL_PLANE = web.AppKey("control_plane", ControlPlane)


def of(request: web.Request) -> ControlPlane:
    return request.app[CONTROL_PLANE]
