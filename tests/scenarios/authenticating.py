"""Sidecar authentication scenarios: a token with the wrong audience, a pod without the
sidecar, a ServiceAccount the App does not allow, a deleted pod — each refused with its code —
and the injected sidecar of an allowed ServiceAccount accepted.

A :class:`SidecarWorld` makes pods and tokens and calls the control plane: the emulator's
(pods and registered tokens, the control plane on loopback) or a real cluster's (pods through
the API, tokens by TokenRequest, the control plane through the API server's service proxy)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from strongroom_core import podspec

OTHER_AUDIENCE = "https://kubernetes.default.svc"


class SidecarWorld(Protocol):
    @property
    def namespace(self) -> str:
        """Holds App ``shop`` allowing ServiceAccount ``shop``; ServiceAccount ``intruder``
        exists there too."""
        ...

    async def pod(self, name: str, *, sidecar: bool = True, service_account: str = "shop") -> Any:
        """A pod as the webhook leaves it (or without the sidecar), returned as the world
        needs it for :meth:`token` and :meth:`delete_pod`."""
        ...

    async def token(self, pod: Any, audience: str = podspec.TOKEN_AUDIENCE) -> str:
        """A projected ServiceAccount token bound to ``pod``, for ``audience``."""
        ...

    async def delete_pod(self, pod: Any) -> None: ...

    async def get(self, path: str, token: str) -> tuple[int, dict[str, Any]]:
        """GET ``path`` on the control plane with the token; the status and the JSON body."""
        ...


def keys_path(world: SidecarWorld) -> str:
    return f"/v1/apps/{world.namespace}/shop/keys"


async def _wrong_audience(world: SidecarWorld) -> str:
    return await world.token(await world.pod("wrong-audience"), OTHER_AUDIENCE)


async def _no_sidecar(world: SidecarWorld) -> str:
    return await world.token(await world.pod("no-sidecar", sidecar=False))


async def _service_account_not_allowed(world: SidecarWorld) -> str:
    return await world.token(await world.pod("intruder", service_account="intruder"))


async def _deleted_pod(world: SidecarWorld) -> str:
    pod = await world.pod("deleted")
    token = await world.token(pod)
    await world.delete_pod(pod)
    return token


@dataclasses.dataclass(frozen=True)
class Refusal:
    name: str
    make_token: Callable[[SidecarWorld], Awaitable[str]]
    status: int
    code: str


REFUSALS = [
    Refusal("wrong_audience", _wrong_audience, 401, "wrong_audience"),
    Refusal("pod_without_sidecar", _no_sidecar, 403, "sidecar_missing"),
    Refusal(
        "service_account_not_allowed",
        _service_account_not_allowed,
        403,
        "service_account_not_allowed",
    ),
    Refusal("deleted_pod", _deleted_pod, 401, "pod_not_found"),
]


async def is_refused(world: SidecarWorld, refusal: Refusal) -> None:
    token = await refusal.make_token(world)
    status, problem = await world.get(keys_path(world), token)
    assert (status, problem.get("code")) == (refusal.status, refusal.code), problem
    assert token not in str(problem)


async def the_injected_sidecar_is_accepted(world: SidecarWorld) -> None:
    """Accepted: its App's keys (200), or 404 while the App has none yet — never 401/403."""
    token = await world.token(await world.pod("web"))
    status, problem = await world.get(keys_path(world), token)
    assert status in (200, 404), problem
