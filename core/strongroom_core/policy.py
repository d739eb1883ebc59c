"""Compiled policy: what the operator compiles per App and the control plane serves to the App's
sidecars over the watch stream. Evaluation is in memory and default deny.

The grant's state, expiry and principal are checked by the sidecar; the rules (methods, paths,
hosts, time windows, source ranges, rate limits, quotas) travel as :class:`RuleWire` in
``CompiledPolicy["rules"]`` (the App's ``spec.policy.rules``) and as :class:`RestrictionsWire` in
``GrantPolicy["restrictions"]`` (a Grant's ``spec.restrictions``), spelled exactly as in the CRDs
with defaults applied. ``strongroom_core.rules`` builds them (``rules.to_wire``) and compiles them
(``rules.compile_policy``); docs/policy.md describes the language.
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
    """OAuth2 settings a sidecar needs to refresh. The client secret is never in plaintext: it
    travels sealed under the App's active data key (``sealing.providersecrets``)."""

    tokenURL: str
    clientId: str
    clientAuthMethod: str
    refreshMarginSeconds: int
    tokenResponse: dict[str, str]
    scopeSeparator: NotRequired[str]
    """Joins the grant's scopes into the ``scope`` parameter of a refresh (default ``" "``)."""
    clientSecretSealed: NotRequired[str]
    """The client secret sealed with ``ProviderSecretBinding(namespace, app, provider)``; absent
    when ``clientAuthMethod`` is ``none`` or the secret could not be resolved (the Provider's
    status says why)."""
    clientSecretDigest: NotRequired[str]
    """Keyed digest of the secret: keeps the policy digest stable across compiles."""


class ProviderPolicy(TypedDict):
    type: Literal["oauth2", "secret"]
    allowedHosts: list[str]
    injections: list[InjectionWire]
    defaultField: str
    """``access_token`` for oauth2, ``token`` for secret."""
    oauth2: NotRequired[OAuth2Wire]


class TimeWindowWire(TypedDict):
    """Local wall-clock window: ``start``/``end`` are ``HH:MM`` (``end`` may be ``24:00``); a
    window whose end is before its start crosses midnight and belongs to the day it starts."""

    days: NotRequired[list[Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]]]
    """Absent: every day."""
    start: str
    end: str
    zone: str
    """IANA zone name, e.g. ``Europe/Berlin``; ``UTC`` by default."""


LimitScope = Literal["grant", "caller", "grantAndCaller"]


class RateLimitWire(TypedDict):
    """Token bucket: ``requests`` per ``period`` (duration like ``"1m"``), bursts up to
    ``burst`` (``requests`` when absent). Counted per sidecar."""

    requests: int
    period: str
    burst: NotRequired[int]
    per: LimitScope


class QuotaWire(TypedDict):
    """``requests`` per calendar ``hour`` or ``day`` in ``zone``. Counted per sidecar, in memory."""

    requests: int
    period: Literal["hour", "day"]
    zone: str
    per: LimitScope


class RestrictionsWire(TypedDict):
    """What a rule may restrict; every key is optional and an absent key restricts nothing."""

    methods: NotRequired[list[str]]
    paths: NotRequired[list[str]]
    hosts: NotRequired[list[str]]
    timeWindows: NotRequired[list[TimeWindowWire]]
    sourceRanges: NotRequired[list[str]]
    rateLimit: NotRequired[RateLimitWire]
    quota: NotRequired[QuotaWire]


class RuleWire(RestrictionsWire):
    """One App rule: the selectors say which calls it applies to (absent: all)."""

    name: NotRequired[str]
    grants: NotRequired[list[str]]
    providers: NotRequired[list[str]]
    principals: NotRequired[list[Literal["user", "group", "system", "agent"]]]
    callers: NotRequired[list[str]]


class GrantPolicy(TypedDict):
    provider: str
    principal: dict[str, str]
    scopes: list[str]
    restrictions: NotRequired[RestrictionsWire]
    """The Grant's ``spec.restrictions``; absent when it has none."""


class IdentityClaimsWire(TypedDict):
    userId: str
    groups: str


class IdentityWire(TypedDict):
    """The App's ``spec.identity`` as the sidecar needs it to verify end users' JWTs
    (``identity.config.from_spec`` reads it)."""

    issuer: str
    jwksURL: str
    audiences: list[str]
    algorithms: list[str]
    claims: IdentityClaimsWire


class AgentAccessWire(TypedDict):
    """One ``spec.access`` entry of an Agent: ``grant`` or ``provider`` (with ``scopes``)."""

    grant: NotRequired[str]
    provider: NotRequired[str]
    scopes: NotRequired[list[str]]
    """Absent: every scope. Present: the grant's scopes must all be in this list."""


class AgentKeyWire(TypedDict):
    """An agent API key as the sidecar checks it: only the SHA-256 of the key, never the key."""

    kid: str
    sha256: str
    """Hex SHA-256 of the whole key string."""
    notAfter: NotRequired[float]
    """Unix seconds after which the key stops working (set on rotation); absent: no end."""


class AgentPolicy(TypedDict):
    suspended: bool
    access: list[AgentAccessWire]
    keys: list[AgentKeyWire]


class CompiledPolicy(TypedDict):
    namespace: str
    app: str
    digest: str
    """SHA-256 over the canonical JSON of everything else: a sidecar can tell what changed."""
    providers: dict[str, ProviderPolicy]
    grants: dict[str, GrantPolicy]
    rules: list[dict[str, Any]]
    """The App's rules, each a :class:`RuleWire` (typed loosely so older producers still fit;
    ``rules.compile_policy`` checks every entry)."""
    identity: NotRequired[IdentityWire]
    """The App's JWT identity provider; absent when the App has none (user tokens are refused)."""
    agents: NotRequired[dict[str, AgentPolicy]]
    """The App's Agents by name: suspension, access set and key hashes."""
    serviceAccounts: NotRequired[list[str]]
    """The ServiceAccounts the App's pods may run as (``spec.serviceAccounts``): the control
    plane authenticates a sidecar only when its pod runs as one of them."""
