"""Who is calling: the bearer token becomes a :class:`Caller`.

Dev mode uses :class:`StaticTokenAuthenticator`; in a cluster
``tokenreview.TokenReviewAuthenticator`` checks the sidecar's projected ServiceAccount token
(audience ``strongroom``) and the pod it is bound to. Tokens never appear in logs, problems or
reprs.

The token comes from ``Strongroom-Authorization: Bearer`` when present, else from
``Authorization: Bearer``: through the Kubernetes API server's service proxy (``kubectl proxy``)
the ``Authorization`` header carries the proxy's own credentials (or nothing), so the CLI sends
its token in both and the Strongroom header wins.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Mapping
from typing import Literal, Protocol

from aiohttp import web

from strongroom_operator.controlplane import problems

CallerKind = Literal["sidecar", "admin"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="strongroom"'}
PROXY_HEADER = "Strongroom-Authorization"
"""Wins over ``Authorization``, which proxies (the API server's service proxy) replace."""


@dataclasses.dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller. A sidecar acts for exactly one App (``namespace``/``app``);
    an admin (the CLI, the operator) for none in particular."""

    kind: CallerKind
    name: str
    namespace: str | None = None
    app: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "sidecar" and not (self.namespace and self.app):
            raise ValueError(f"sidecar caller {self.name!r} needs a namespace and an app")

    def acts_for(self, namespace: str, app: str) -> bool:
        return self.kind == "sidecar" and (self.namespace, self.app) == (namespace, app)


class Authenticator(Protocol):
    async def authenticate(self, token: str) -> Caller | None:
        """The caller the token belongs to, or ``None`` when it is not accepted. An
        authenticator may instead raise ``problems.ProblemError`` to refuse with its own code
        (``tokenreview`` does: ``pod_not_found``, ``sidecar_missing``, ...)."""
        ...


class StaticTokenAuthenticator:
    """A fixed token → caller table (dev mode, tests). Every token is compared in constant
    time, and all of them are compared, so timing tells nothing about which one nearly
    matched."""

    def __init__(self, tokens: Mapping[str, Caller]) -> None:
        self._tokens = [(token.encode("utf-8"), caller) for token, caller in tokens.items()]

    def __repr__(self) -> str:
        return f"StaticTokenAuthenticator(<{len(self._tokens)} tokens>)"

    async def authenticate(self, token: str) -> Caller | None:
        offered = token.encode("utf-8")
        found: Caller | None = None
        for known, caller in self._tokens:
            if hmac.compare_digest(known, offered):
                found = caller
        return found


def bearer_token(request: web.Request) -> str:
    header = request.headers.get(PROXY_HEADER) or request.headers.get("Authorization")
    if header is None:
        raise problems.ProblemError(
            401,
            "unauthenticated",
            "Authorization: missing; send 'Authorization: Bearer <token>'",
            headers=_CHALLENGE,
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise problems.ProblemError(
            401,
            "unauthenticated",
            "Authorization: expected the 'Bearer <token>' scheme",
            headers=_CHALLENGE,
        )
    return token.strip()


async def authenticate(request: web.Request, authenticator: Authenticator) -> Caller:
    caller = await authenticator.authenticate(bearer_token(request))
    if caller is None:
        raise problems.ProblemError(
            401,
            "unauthenticated",
            "Authorization: the bearer token was not accepted (unknown, expired or revoked)",
            headers=_CHALLENGE,
        )
    return caller


def require_app(caller: Caller, namespace: str, app: str, *, admin: bool) -> None:
    """403 unless the caller is the App's sidecar (or an admin, where ``admin`` allows)."""
    if caller.acts_for(namespace, app) or (admin and caller.kind == "admin"):
        return
    if caller.kind == "sidecar":
        raise problems.forbidden(
            f"this sidecar acts for App {caller.namespace}/{caller.app}, not {namespace}/{app}"
        )
    raise problems.forbidden(f"only the sidecars of App {namespace}/{app} may do this")


def require_admin(caller: Caller) -> None:
    if caller.kind != "admin":
        raise problems.forbidden("only an admin caller may do this")
