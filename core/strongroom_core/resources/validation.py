"""Python mirrors of the CRDs' CEL rules, immutability, and the cross-resource checks CEL cannot do.

Each mirror is registered under the exact CEL text it mirrors (whitespace-normalised), so
``checking`` runs the mirror wherever the CRD schema carries the rule, and a test proves every
CRD rule has a mirror that agrees with a real CEL evaluation. A mirror receives the value the
rule's ``self`` names (defaults applied, types already checked) and returns the rule's message
when the value violates it, else ``None``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from strongroom_core import injection
from strongroom_core.resources import errors, models

OAUTH2_CREDENTIAL_FIELDS = frozenset(
    {"access_token", "refresh_token", "token_type", "expires_at", "scope"}
)
"""The fields of a sealed OAuth2 credential: what an oauth2 Provider's templates may use."""


@dataclass(frozen=True, slots=True)
class Options:
    allow_loopback_http: bool = False
    """Accept ``http://`` URLs to 127.0.0.1, ::1 and localhost where https is required. Only dev
    mode and tests turn this on; in a cluster a loopback token URL would send the client secret
    to whatever listens in the pod."""


Mirror = Callable[[Any, Options], "str | None"]
_MIRRORS: dict[str, Mirror] = {}


def normalize_rule(rule: str) -> str:
    return " ".join(rule.split())


def mirrors(rule: str) -> Callable[[Mirror], Mirror]:
    """Register the decorated function as the mirror of the CEL ``rule``."""

    def register(function: Mirror) -> Mirror:
        _MIRRORS[normalize_rule(rule)] = function
        return function

    return register


def mirror(rule: str) -> Mirror:
    """The mirror of a CEL rule; ``LookupError`` when a CRD rule has none (a test guards it)."""
    try:
        return _MIRRORS[normalize_rule(rule)]
    except KeyError:
        raise LookupError(f"no Python mirror for the CEL rule {rule!r}") from None


def mirrored_rules() -> frozenset[str]:
    return frozenset(_MIRRORS)


# --- URLs --------------------------------------------------------------------------------------


def _is_loopback_http(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme == "http" and parts.hostname in {"127.0.0.1", "::1", "localhost"}


@mirrors("self.startsWith('https://')")
def url_is_https(url: str, options: Options) -> str | None:
    if url.startswith("https://") or (options.allow_loopback_http and _is_loopback_http(url)):
        return None
    return "must be an https:// URL"


@mirrors(
    "self.all(u, u.startsWith('https://') || u.startsWith('http://localhost') ||"
    " u.startsWith('http://127.0.0.1'))"
)
def return_urls_are_https_or_local(urls: list[str], options: Options) -> str | None:
    local = ("https://", "http://localhost", "http://127.0.0.1")
    if all(url.startswith(local) for url in urls):
        return None
    return "return URLs must be https://, or http://localhost or http://127.0.0.1 for development"


# --- Provider ----------------------------------------------------------------------------------


@mirrors("has(self.preset) || has(self.type)")
def provider_type_present(spec: Mapping[str, Any], options: Options) -> str | None:
    return None if "preset" in spec or "type" in spec else "required unless a preset gives it"


@mirrors("has(self.preset) || (has(self.allowedHosts) && size(self.allowedHosts) > 0)")
def allowed_hosts_present(spec: Mapping[str, Any], options: Options) -> str | None:
    if "preset" in spec or spec.get("allowedHosts"):
        return None
    return "at least one allowed host is required unless a preset gives them"


@mirrors("!has(self.type) || (self.type == 'oauth2') == has(self.oauth2)")
def oauth2_settings_match_type(spec: Mapping[str, Any], options: Options) -> str | None:
    if "type" not in spec or (spec["type"] == "oauth2") == ("oauth2" in spec):
        return None
    return "required for type oauth2 and forbidden for other types"


@mirrors("!has(self.secret) || !has(self.type) || self.type == 'secret'")
def secret_settings_only_for_secret_type(spec: Mapping[str, Any], options: Options) -> str | None:
    if "secret" not in spec or "type" not in spec or spec["type"] == "secret":
        return None
    return "only allowed for type secret"


@mirrors("has(self.preset) || !has(self.oauth2) || has(self.oauth2.tokenURL)")
def token_url_present(spec: Mapping[str, Any], options: Options) -> str | None:
    if "preset" in spec or "oauth2" not in spec or "tokenURL" in spec["oauth2"]:
        return None
    return "required unless a preset gives it"


@mirrors("!(self.type in ['header', 'query']) || has(self.name)")
def injection_name_present(item: Mapping[str, Any], options: Options) -> str | None:
    if item["type"] not in ("header", "query") or "name" in item:
        return None
    return f"required for type {item['type']}"


@mirrors("self.type == 'basic' || (!has(self.username) && !has(self.password))")
def basic_templates_only_for_basic(item: Mapping[str, Any], options: Options) -> str | None:
    if item["type"] == "basic" or ("username" not in item and "password" not in item):
        return None
    return "username and password templates are only for type basic"


@mirrors("self.clientAuthMethod == 'none' || has(self.clientSecretRef)")
def client_secret_present(oauth2: Mapping[str, Any], options: Options) -> str | None:
    if oauth2["clientAuthMethod"] == "none" or "clientSecretRef" in oauth2:
        return None
    return "required unless clientAuthMethod is none"


# --- Grant -------------------------------------------------------------------------------------


@mirrors("!(has(self.expiresAt) && has(self.ttl))")
def expiry_set_once(spec: Mapping[str, Any], options: Options) -> str | None:
    if "expiresAt" in spec and "ttl" in spec:
        return "expiresAt and ttl are mutually exclusive; set at most one"
    return None


@mirrors(
    "(has(self.sealedValue) ? 1 : 0) + (has(self.secretRef) ? 1 : 0) +"
    " (has(self.clientCredentials) ? 1 : 0) == 1"
)
def credential_set_once(credential: Mapping[str, Any], options: Options) -> str | None:
    sources = ("sealedValue", "secretRef", "clientCredentials")
    if sum(source in credential for source in sources) == 1:
        return None
    return "set exactly one of sealedValue, secretRef and clientCredentials"


@mirrors(
    "!has(self.credential) || !has(self.credential.clientCredentials) ||"
    " self.principal.kind in ['system', 'agent']"
)
def client_credentials_only_for_workloads(spec: Mapping[str, Any], options: Options) -> str | None:
    """A client credentials token acts as the App (or an Agent): handing it to a user or group
    principal would let anyone with that JWT call as the App."""
    if "clientCredentials" not in spec.get("credential", {}):
        return None
    if spec["principal"]["kind"] in ("system", "agent"):
        return None
    return (
        "clientCredentials is only for principal kind system or agent; a user's or group's "
        "token comes from their own authorization"
    )


# --- Agent -------------------------------------------------------------------------------------


@mirrors("has(self.grant) != has(self.provider)")
def access_names_one_target(entry: Mapping[str, Any], options: Options) -> str | None:
    if ("grant" in entry) != ("provider" in entry):
        return None
    return "set exactly one of grant and provider"


@mirrors("!has(self.scopes) || has(self.provider)")
def access_scopes_only_for_providers(entry: Mapping[str, Any], options: Options) -> str | None:
    if "scopes" not in entry or "provider" in entry:
        return None
    return "only for provider entries; a grant entry uses the Grant's own scopes"


# --- Beyond CEL: checks on a whole Provider -------------------------------------------------


def check_injections(provider: models.Provider) -> list[errors.FieldError]:
    """Injections that can never work (a template naming a field the credential does not
    declare, two injections writing one place, a header that frames the request), from
    ``injection.check``; CEL cannot see templates."""
    fields = (
        OAUTH2_CREDENTIAL_FIELDS
        if provider.type == "oauth2"
        else (provider.secret.fields if provider.secret else ("token",))
    )
    return [
        errors.FieldError(f"spec.{path}", message)
        for path, message in injection.check(
            provider.injections, default_field=provider.default_field, fields=fields
        )
    ]


# --- Immutability (CEL transition rules ``self == oldSelf``) ---------------------------------


def check_immutable(old: models.Resource, new: models.Resource) -> list[errors.FieldError]:
    """Errors for the immutable fields ``new`` changed: ``spec.appRef``, ``spec.providerRef``
    and ``spec.principal``; the sealed credential is bound to them."""
    if old.kind != new.kind:
        return [errors.FieldError("kind", f"cannot change from {old.kind} to {new.kind}")]
    message = f"is immutable; delete the {new.kind} and create it again"
    found: list[errors.FieldError] = []
    if (
        not isinstance(new, models.App)
        and not isinstance(old, models.App)
        and old.app_ref != new.app_ref
    ):
        found.append(errors.FieldError("spec.appRef", message))
    if isinstance(old, models.Grant) and isinstance(new, models.Grant):
        if old.provider_ref != new.provider_ref:
            found.append(errors.FieldError("spec.providerRef", message))
        if old.principal != new.principal:
            found.append(errors.FieldError("spec.principal", message))
    return found


# --- Cross-resource references ----------------------------------------------------------------


class _Index:
    def __init__(self, resources: Iterable[models.Resource]) -> None:
        self.found: dict[models.Ref, list[errors.FieldError]] = {}
        self.apps: dict[models.Key, models.App] = {}
        self.providers: dict[models.Key, models.Provider] = {}
        self.grants: dict[models.Key, models.Grant] = {}
        self.resources: list[models.Resource] = []
        seen: set[models.Ref] = set()
        for resource in resources:
            if resource.ref in seen:
                self.add(resource, "metadata.name", f"another {resource.kind} has this name")
                continue
            seen.add(resource.ref)
            self.resources.append(resource)
            if isinstance(resource, models.App):
                self.apps[resource.key] = resource
            elif isinstance(resource, models.Provider):
                self.providers[resource.key] = resource
            elif isinstance(resource, models.Grant):
                self.grants[resource.key] = resource

    def add(self, resource: models.Resource, path: str, message: str) -> None:
        self.found.setdefault(resource.ref, []).append(errors.FieldError(path, message))

    def app_exists(self, resource: models.Provider | models.Grant | models.Agent) -> None:
        namespace = resource.meta.namespace
        if (namespace, resource.app_ref) not in self.apps:
            self.add(
                resource,
                "spec.appRef",
                f'App "{resource.app_ref}" not found in namespace "{namespace}"',
            )

    def provider_of_app(
        self, resource: models.Grant | models.Agent, name: str, path: str
    ) -> models.Provider | None:
        namespace = resource.meta.namespace
        provider = self.providers.get((namespace, name))
        if provider is None:
            self.add(resource, path, f'Provider "{name}" not found in namespace "{namespace}"')
        elif provider.app_ref != resource.app_ref:
            self.add(
                resource,
                path,
                f'Provider "{name}" belongs to App "{provider.app_ref}", not "{resource.app_ref}"',
            )
            return None
        return provider


def check_references(
    resources: Iterable[models.Resource],
) -> dict[models.Ref, errors.ValidationError]:
    """Check what only a view of all resources can: every ``appRef`` names an App of the
    namespace, a Grant's Provider exists and belongs to the same App, an Agent's access names
    Grants and Providers of its App, scopes only where a Provider is oauth2, a Grant's
    ``credential.secretRef.key`` only where the Provider takes a single field,
    ``credential.clientCredentials`` only with an oauth2 Provider that authenticates its
    client, and no name is loaded twice. Returns the errors per offending resource
    (``(kind, namespace, name)``)."""
    index = _Index(resources)
    for resource in index.resources:
        if isinstance(resource, models.Provider):
            index.app_exists(resource)
        elif isinstance(resource, models.Grant):
            index.app_exists(resource)
            _check_grant(index, resource)
        elif isinstance(resource, models.Agent):
            index.app_exists(resource)
            _check_agent(index, resource)
    return {
        ref: errors.ValidationError(ref[0], ref[1], ref[2], tuple(found))
        for ref, found in index.found.items()
    }


def _check_grant(index: _Index, grant: models.Grant) -> None:
    provider = index.provider_of_app(grant, grant.provider_ref, "spec.providerRef")
    if provider is not None and grant.credential and grant.credential.client_credentials:
        _check_client_credentials(index, grant, provider)
    if provider is None or provider.type != "secret":
        return
    if grant.scopes:
        index.add(
            grant,
            "spec.scopes",
            f'Provider "{provider.meta.name}" is type secret; scopes apply to oauth2 only',
        )
    fields = provider.secret.fields if provider.secret else ("token",)
    ref = grant.credential.secret_ref if grant.credential else None
    if ref is not None and ref.key is not None and len(fields) != 1:
        index.add(
            grant,
            "spec.credential.secretRef.key",
            f'Provider "{provider.meta.name}" needs the fields {", ".join(fields)}; one key '
            "supplies only one field: drop key and name the Secret's keys after the fields",
        )


def _check_client_credentials(
    index: _Index, grant: models.Grant, provider: models.Provider
) -> None:
    """The client credentials grant needs an oauth2 Provider with a confidential client: the
    token endpoint authenticates the client, so a public client (``none``) cannot use it."""
    path = "spec.credential.clientCredentials"
    name = provider.meta.name
    if provider.oauth2 is None:
        index.add(
            grant,
            path,
            f'Provider "{name}" is type {provider.type}; the client credentials grant needs an '
            "oauth2 Provider: seal the credential into sealedValue instead",
        )
    elif provider.oauth2.client_auth_method == "none":
        index.add(
            grant,
            path,
            f'Provider "{name}" has spec.oauth2.clientAuthMethod none (a public client); the '
            "client credentials grant needs client_secret_basic or client_secret_post and a "
            "clientSecretRef",
        )


def _check_agent(index: _Index, agent: models.Agent) -> None:
    namespace = agent.meta.namespace
    for position, entry in enumerate(agent.access):
        path = f"spec.access[{position}]"
        if entry.grant is not None:
            grant = index.grants.get((namespace, entry.grant))
            if grant is None:
                index.add(
                    agent,
                    f"{path}.grant",
                    f'Grant "{entry.grant}" not found in namespace "{namespace}"',
                )
            elif grant.app_ref != agent.app_ref:
                index.add(
                    agent,
                    f"{path}.grant",
                    f'Grant "{entry.grant}" belongs to App "{grant.app_ref}", '
                    f'not "{agent.app_ref}"',
                )
        if entry.provider is not None:
            provider = index.provider_of_app(agent, entry.provider, f"{path}.provider")
            if provider is not None and provider.type == "secret" and entry.scopes:
                index.add(
                    agent,
                    f"{path}.scopes",
                    f'Provider "{entry.provider}" is type secret; scopes apply to oauth2 only',
                )
