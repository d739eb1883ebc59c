"""Typed, validated custom resources: what ``parsing.parse_resource`` returns.

Every model is a frozen dataclass built only from a document that passed validation, with CRD
defaults applied and, for Providers, the catalog preset merged. Field names follow Python
spelling of the CRD's (``allowedHosts`` → ``allowed_hosts``). Nothing here holds plaintext: a
Grant's ``sealed_value`` is ciphertext, and it is still kept out of ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from strongroom_core import injection

GROUP = "strongroom.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

Key = tuple[str, str]
"""``(namespace, name)`` of a resource; unique per kind."""
Ref = tuple[str, str, str]
"""``(kind, namespace, name)``; unique across kinds."""

ProviderType = Literal["oauth2", "secret"]
PrincipalKind = Literal["user", "group", "system", "agent"]
ClientAuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    """The parts of ``metadata`` Strongroom uses. Server-assigned fields are empty/zero when the
    document came from a file (dev mode) rather than the API server."""

    name: str
    namespace: str = "default"
    uid: str = ""
    generation: int = 0
    resource_version: str = ""
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)
    creation_timestamp: float | None = None
    """Unix seconds from ``metadata.creationTimestamp``; ``None`` when absent."""

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class _Resource:
    kind: ClassVar[str]
    meta: ObjectMeta

    @property
    def key(self) -> Key:
        """``(namespace, name)``."""
        return self.meta.key

    @property
    def ref(self) -> Ref:
        """``(kind, namespace, name)``."""
        return (self.kind, self.meta.namespace, self.meta.name)


# --- App ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    """The App's JWT identity provider (``spec.identity``)."""

    issuer: str
    jwks_url: str
    audiences: tuple[str, ...]
    algorithms: tuple[str, ...] = ("RS256",)
    user_id_claim: str = "sub"
    groups_claim: str = "groups"


@dataclass(frozen=True, slots=True)
class App(_Resource):
    kind: ClassVar[str] = "App"
    service_accounts: tuple[str, ...]
    identity: Identity | None = None
    policy_rules: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)
    """``spec.policy.rules`` as given with CRD defaults applied (wire spelling, checked by
    ``strongroom_core.rules`` at parse time); ``rules.to_wire`` turns them into the wire form."""
    return_urls: tuple[str, ...] = ()
    """``spec.connect.returnURLs``."""


# --- Provider ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SecretKeyRef:
    """A key in a Secret of the resource's namespace. ``key`` is ``None`` only for a Grant's
    ``credential.secretRef`` without a key (every Secret key named like a field supplies it)."""

    name: str
    key: str | None


@dataclass(frozen=True, slots=True)
class TokenResponseMapping:
    """Dotted paths into the token endpoint's JSON answer (``spec.oauth2.tokenResponse``).
    An empty string means the provider does not send that value."""

    access_token: str = "access_token"  # noqa: S105 -- a JSON key, not a secret
    refresh_token: str = "refresh_token"  # noqa: S105 -- a JSON key, not a secret
    expires_in: str = "expires_in"
    expires_at: str = ""
    token_type: str = "token_type"  # noqa: S105 -- a JSON key, not a secret
    scope: str = "scope"


@dataclass(frozen=True, slots=True)
class OAuth2Settings:
    """``spec.oauth2`` after the preset merge and defaults."""

    token_url: str
    client_id: str
    authorization_url: str | None = None
    revocation_url: str | None = None
    client_secret_ref: SecretKeyRef | None = None
    """``None`` only when ``client_auth_method`` is ``none``."""
    default_scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    pkce: bool = True
    client_auth_method: ClientAuthMethod = "client_secret_basic"
    refresh_margin_seconds: int = 300
    token_response: TokenResponseMapping = TokenResponseMapping()


@dataclass(frozen=True, slots=True)
class SecretSettings:
    """``spec.secret``: the fields a Grant's credential must supply."""

    fields: tuple[str, ...] = ("token",)


@dataclass(frozen=True, slots=True)
class Provider(_Resource):
    kind: ClassVar[str] = "Provider"
    app_ref: str
    type: ProviderType
    allowed_hosts: tuple[str, ...]
    injections: tuple[injection.Injection, ...] = (injection.Injection(type="bearer"),)
    preset: str | None = None
    display_name: str = ""
    oauth2: OAuth2Settings | None = None
    """Set exactly when ``type`` is ``oauth2``."""
    secret: SecretSettings | None = None
    """Set exactly when ``type`` is ``secret`` (defaults filled in when the spec had none)."""

    @property
    def default_field(self) -> str:
        """The credential field a ``bearer`` injection without a format uses."""
        return "access_token" if self.type == "oauth2" else "token"


# --- Grant -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    id: str


@dataclass(frozen=True, slots=True)
class Credential:
    """Exactly one of ``sealed_value``, ``secret_ref`` and ``client_credentials`` is set."""

    sealed_value: str | None = field(default=None, repr=False)
    secret_ref: SecretKeyRef | None = None
    client_credentials: bool = False
    """``spec.credential.clientCredentials`` is present: the sidecar obtains the token with
    the OAuth2 client credentials grant (the Provider's client, the Grant's scopes)."""


@dataclass(frozen=True, slots=True)
class Restrictions:
    """``spec.restrictions``; an empty tuple or ``None`` restricts nothing. Evaluated by
    ``strongroom_core.rules`` (see docs/policy.md); the structured entries are kept as given,
    with CRD defaults applied, in the wire spelling."""

    methods: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    time_windows: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)
    """``timeWindows`` entries: ``{"days": [...], "start", "end", "zone"}``."""
    source_ranges: tuple[str, ...] = ()
    rate_limit: Mapping[str, Any] | None = field(default=None, hash=False)
    """``rateLimit``: ``{"requests", "period", "burst"?, "per"}``."""
    quota: Mapping[str, Any] | None = field(default=None, hash=False)
    """``quota``: ``{"requests", "period", "zone", "per"}``."""


@dataclass(frozen=True, slots=True)
class Grant(_Resource):
    kind: ClassVar[str] = "Grant"
    app_ref: str
    provider_ref: str
    principal: Principal
    scopes: tuple[str, ...] = ()
    expires_at: float | None = None
    """Unix seconds when the Grant expires: from ``spec.expiresAt``, or ``spec.ttl`` added to
    ``metadata.creationTimestamp`` (or to the parse time when the document has none)."""
    ttl_seconds: int | None = None
    """``spec.ttl`` in seconds, when given."""
    restrictions: Restrictions = Restrictions()
    credential: Credential | None = None
    """``None``: the Grant has no credential yet and is not Ready."""


# --- Agent -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentAccess:
    """One ``spec.access`` entry: exactly one of ``grant`` and ``provider`` is set; ``scopes``
    is ``None`` (all) or the narrowing of a provider entry."""

    grant: str | None = None
    provider: str | None = None
    scopes: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Agent(_Resource):
    kind: ClassVar[str] = "Agent"
    app_ref: str
    suspended: bool = False
    access: tuple[AgentAccess, ...] = ()
    key_overlap_seconds: int = 3600
    """``spec.keyRotation.overlapSeconds``."""


Resource = App | Provider | Grant | Agent
KINDS: tuple[str, ...] = ("App", "Provider", "Grant", "Agent")
