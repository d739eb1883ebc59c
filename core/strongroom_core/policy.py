"""Compiled policy: what the operator compiles per App and the control plane serves to the App's
sidecars over the watch stream. Evaluation is in memory and default deny.

This issue covers allow/deny by grant state, expiry and principal; rules (methods, paths, time
windows, source ranges, rate limits, narrowing) arrive with the next issue and plug into
``CompiledPolicy["rules"]``.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class InjectionWire(TypedDict):
    type: Literal["bearer", "basic", "header", "query"]
    name: NotRequired[str]
    format: NotRequired[str]
    username: NotRequired[str]
    password: NotRequired[str]


class OAuth2Wire(TypedDict):
    """Public OAuth2 settings a sidecar needs to refresh (client secret travels separately)."""

    tokenURL: str
    clientId: str
    clientAuthMethod: str
    refreshMarginSeconds: int
    tokenResponse: dict[str, str]


class ProviderPolicy(TypedDict):
    type: Literal["oauth2", "secret"]
    allowedHosts: list[str]
    injections: list[InjectionWire]
    defaultField: str
    """``access_token`` for oauth2, ``token`` for secret."""
    oauth2: NotRequired[OAuth2Wire]


class GrantPolicy(TypedDict):
    provider: str
    principal: dict[str, str]
    scopes: list[str]


class CompiledPolicy(TypedDict):
    namespace: str
    app: str
    digest: str
    """SHA-256 over the canonical JSON of everything else: a sidecar can tell what changed."""
    providers: dict[str, ProviderPolicy]
    grants: dict[str, GrantPolicy]
    rules: list[dict[str, Any]]
