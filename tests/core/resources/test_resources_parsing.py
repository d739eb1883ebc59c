"""parse_resource: valid documents become typed models with defaults; errors name the field."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from strongroom_core import catalog, injection
from strongroom_core.resources import errors, models, parsing
from tests import canary
from tests.core.resources import documents


def field_errors(document: Any, **options: Any) -> list[str]:
    with pytest.raises(errors.ValidationError) as caught:
        parsing.parse_resource(document, **options)
    return [str(error) for error in caught.value.errors]


# --- valid documents ----------------------------------------------------------------------------


def test_app_parses_with_identity_defaults_and_policy_rules_with_defaults() -> None:
    app = parsing.parse_resource(documents.app())
    assert isinstance(app, models.App)
    assert app.key == ("default", "demo")
    assert app.ref == ("App", "default", "demo")
    assert app.service_accounts == ("web",)
    assert app.identity == models.Identity(
        issuer="https://id.example.com",
        jwks_url="https://id.example.com/jwks",
        audiences=("demo",),
        algorithms=("RS256",),
        user_id_claim="sub",
        groups_claim="groups",
    )
    assert app.policy_rules == (
        {"methods": ["GET"], "timeWindows": [{"start": "09:00", "end": "17:00", "zone": "UTC"}]},
    )
    assert app.return_urls == ("https://demo.example.com/done",)


def test_oauth2_provider_parses_with_every_default_applied() -> None:
    provider = parsing.parse_resource(documents.oauth2_provider())
    assert isinstance(provider, models.Provider)
    assert provider.type == "oauth2"
    assert provider.default_field == "access_token"
    assert provider.injections == (injection.Injection(type="bearer"),)
    assert provider.secret is None
    assert provider.oauth2 == models.OAuth2Settings(
        token_url="https://auth.example.com/token",
        client_id="client-1",
        authorization_url="https://auth.example.com/authorize",
        revocation_url=None,
        client_secret_ref=models.SecretKeyRef("example-oauth", "clientSecret"),
        default_scopes=(),
        scope_separator=" ",
        pkce=True,
        client_auth_method="client_secret_basic",
        refresh_margin_seconds=300,
        token_response=models.TokenResponseMapping(),
    )


def test_token_response_mapping_takes_dotted_paths() -> None:
    document = documents.oauth2_provider()
    document["spec"]["oauth2"]["tokenResponse"] = {"accessToken": "authed_user.access_token"}
    provider = parsing.parse_resource(document)
    assert isinstance(provider, models.Provider)
    assert provider.oauth2 is not None
    assert provider.oauth2.token_response == models.TokenResponseMapping(
        access_token="authed_user.access_token"
    )


def test_secret_provider_gets_the_default_token_field_and_its_injections() -> None:
    provider = parsing.parse_resource(documents.secret_provider())
    assert isinstance(provider, models.Provider)
    assert provider.default_field == "token"
    assert provider.secret == models.SecretSettings(fields=("token",))
    assert provider.oauth2 is None
    assert provider.injections == (
        injection.Injection(type="header", name="X-Api-Key", format="{token}"),
    )


def test_basic_injection_keeps_its_templates() -> None:
    document = documents.secret_provider()
    document["spec"]["injections"] = [{"type": "basic", "username": "{key}", "password": ""}]
    document["spec"]["secret"] = {"fields": ["key"]}
    provider = parsing.parse_resource(document)
    assert isinstance(provider, models.Provider)
    assert provider.injections == (
        injection.Injection(type="basic", username="{key}", password=""),
    )
    assert provider.secret == models.SecretSettings(fields=("key",))


def test_grant_parses_principal_scopes_and_credential() -> None:
    grant = parsing.parse_resource(documents.grant())
    assert isinstance(grant, models.Grant)
    assert grant.principal == models.Principal(kind="user", id="alice")
    assert grant.scopes == ("read",)
    assert grant.credential == models.Credential(sealed_value="sealed-blob")
    assert grant.expires_at is None
    assert grant.restrictions == models.Restrictions()


def test_agent_parses_with_defaults() -> None:
    agent = parsing.parse_resource(documents.agent())
    assert isinstance(agent, models.Agent)
    assert agent.suspended is False
    assert agent.key_overlap_seconds == 3600
    assert agent.access == (
        models.AgentAccess(grant="alice-example"),
        models.AgentAccess(provider="example", scopes=("read",)),
    )


def test_namespace_defaults_to_default_and_metadata_is_read() -> None:
    document = documents.agent()
    document["metadata"] = {
        "name": "bot",
        "uid": "u-1",
        "generation": 4,
        "resourceVersion": "77",
        "labels": {"team": "a"},
        "annotations": {"note": "b"},
        "creationTimestamp": "2030-01-01T00:00:00Z",
        "managedFields": [{"manager": "kubectl"}],
    }
    agent = parsing.parse_resource(document)
    assert agent.meta == models.ObjectMeta(
        name="bot",
        namespace="default",
        uid="u-1",
        generation=4,
        resource_version="77",
        labels={"team": "a"},
        annotations={"note": "b"},
        creation_timestamp=1893456000.0,
    )


def test_null_fields_count_as_absent() -> None:
    document = documents.agent()
    document["spec"]["suspended"] = None
    agent = parsing.parse_resource(document)
    assert isinstance(agent, models.Agent)
    assert agent.suspended is False


# --- grant expiry -------------------------------------------------------------------------------


def test_grant_expires_at_is_read_as_unix_seconds() -> None:
    document = documents.grant()
    document["spec"]["expiresAt"] = "2030-01-01T01:00:00+01:00"
    grant = parsing.parse_resource(document)
    assert isinstance(grant, models.Grant)
    assert grant.expires_at == 1893456000.0
    assert grant.ttl_seconds is None


def test_grant_ttl_counts_from_creation_timestamp() -> None:
    document = documents.grant()
    document["metadata"]["creationTimestamp"] = "2030-01-01T00:00:00Z"
    document["spec"]["ttl"] = "1d12h30m"
    grant = parsing.parse_resource(document, now=5.0)
    assert isinstance(grant, models.Grant)
    assert grant.ttl_seconds == 86400 + 12 * 3600 + 30 * 60
    assert grant.expires_at == 1893456000.0 + grant.ttl_seconds


def test_grant_ttl_without_creation_timestamp_counts_from_now() -> None:
    document = documents.grant()
    document["spec"]["ttl"] = "90m"
    grant = parsing.parse_resource(document, now=1000.0)
    assert isinstance(grant, models.Grant)
    assert grant.expires_at == 1000.0 + 5400


def test_grant_ttl_without_now_counts_from_the_clock() -> None:
    document = documents.grant()
    document["spec"]["ttl"] = "24h"
    before = time.time()
    grant = parsing.parse_resource(document)
    after = time.time()
    assert isinstance(grant, models.Grant)
    assert grant.expires_at is not None
    assert before + 86400 <= grant.expires_at <= after + 86400


@pytest.mark.parametrize("ttl", ["90 minutes", "1.5h", "h", "", "-1h", "1w"])
def test_malformed_ttl_names_the_field(ttl: str) -> None:
    document = documents.grant()
    document["spec"]["ttl"] = ttl
    (message,) = field_errors(document)
    assert message.startswith("spec.ttl: must")


@pytest.mark.parametrize(
    "value", ["2030-01-01", "tomorrow", "2030-01-01T00:00:00", "2030-13-01T00:00:00Z"]
)
def test_expires_at_must_be_rfc3339_with_a_zone(value: str) -> None:
    document = documents.grant()
    document["spec"]["expiresAt"] = value
    assert field_errors(document) == [
        "spec.expiresAt: must be an RFC 3339 date-time, e.g. 2030-01-31T12:00:00Z"
    ]


# --- errors -------------------------------------------------------------------------------------


def test_validation_error_reads_kind_namespace_name_and_each_field() -> None:
    document = documents.oauth2_provider()
    del document["spec"]["oauth2"]["tokenURL"]
    document["spec"]["injections"] = [{"type": "header"}]
    with pytest.raises(errors.ValidationError) as caught:
        parsing.parse_resource(document)
    assert str(caught.value) == (
        "Provider default/example: spec.injections[0].name: required for type header; "
        "spec.oauth2.tokenURL: required unless a preset gives it"
    )
    assert (caught.value.kind, caught.value.namespace, caught.value.name) == (
        "Provider",
        "default",
        "example",
    )
    assert caught.value.errors[0] == errors.FieldError(
        "spec.injections[0].name", "required for type header"
    )


@pytest.mark.parametrize(
    ("factory", "path", "expected"),
    [
        (documents.app, ("spec", "serviceAccounts"), "spec.serviceAccounts: required"),
        (documents.grant, ("spec", "principal"), "spec.principal: required"),
        (documents.grant, ("spec", "principal", "id"), "spec.principal.id: required"),
        (documents.oauth2_provider, ("spec", "appRef"), "spec.appRef: required"),
        (
            documents.oauth2_provider,
            ("spec", "oauth2", "clientId"),
            "spec.oauth2.clientId: required",
        ),
        (documents.agent, ("spec",), "spec: required"),
        (documents.agent, ("metadata",), "metadata: required"),
        (documents.agent, ("metadata", "name"), "metadata.name: required"),
        (documents.agent, ("apiVersion",), "apiVersion: required"),
    ],
)
def test_missing_required_field_is_named(
    factory: Any, path: tuple[str, ...], expected: str
) -> None:
    document = factory()
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    assert expected in field_errors(document)


@pytest.mark.parametrize(
    ("factory", "path", "value", "expected"),
    [
        (
            documents.app,
            ("spec", "serviceAccounts"),
            "web",
            "spec.serviceAccounts: must be a list, not a string",
        ),
        (
            documents.app,
            ("spec", "serviceAccounts"),
            [3],
            "spec.serviceAccounts[0]: must be a string, not a number",
        ),
        (
            documents.oauth2_provider,
            ("spec", "oauth2", "pkce"),
            "yes",
            "spec.oauth2.pkce: must be a boolean (true or false), not a string",
        ),
        (
            documents.oauth2_provider,
            ("spec", "oauth2", "refreshMarginSeconds"),
            True,
            "spec.oauth2.refreshMarginSeconds: must be an integer, not a boolean",
        ),
        (
            documents.oauth2_provider,
            ("spec", "oauth2", "refreshMarginSeconds"),
            -1,
            "spec.oauth2.refreshMarginSeconds: must be at least 0",
        ),
        (
            documents.oauth2_provider,
            ("spec", "oauth2"),
            ["x"],
            "spec.oauth2: must be an object, not a list",
        ),
        (
            documents.agent,
            ("spec", "keyRotation"),
            {"overlapSeconds": 1.5},
            "spec.keyRotation.overlapSeconds: must be an integer, not a number",
        ),
        (documents.agent, ("spec",), "x", "spec: must be an object"),
        (documents.agent, ("metadata",), [], "metadata: must be an object"),
        (documents.agent, ("metadata", "name"), 7, "metadata.name: must be a string"),
        (
            documents.agent,
            ("metadata", "name"),
            "Bot_1",
            "metadata.name: must be lowercase letters, digits, '-' and '.', starting and ending"
            " with a letter or digit (at most 253 characters)",
        ),
        (
            documents.agent,
            ("metadata", "labels"),
            {"a": 1},
            "metadata.labels: must map strings to strings",
        ),
        (
            documents.agent,
            ("metadata", "generation"),
            "1",
            "metadata.generation: must be an integer",
        ),
        (
            documents.agent,
            ("metadata", "creationTimestamp"),
            "yesterday",
            "metadata.creationTimestamp: must be an RFC 3339 date-time",
        ),
        (
            documents.app,
            ("spec", "serviceAccounts"),
            [],
            "spec.serviceAccounts: must have at least 1 item(s)",
        ),
        (
            documents.app,
            ("spec", "serviceAccounts"),
            ["web", "web"],
            "spec.serviceAccounts[1]: duplicate entry",
        ),
        (
            documents.app,
            ("spec", "identity", "issuer"),
            "id.example.com",
            "spec.identity.issuer: must be an absolute URL",
        ),
        (documents.oauth2_provider, ("spec", "appRef"), "", "spec.appRef: must not be empty"),
        (
            documents.grant,
            ("spec", "restrictions"),
            {"paths": ["repos"]},
            "spec.restrictions.paths[0]: must match the pattern ^/",
        ),
    ],
)
def test_wrong_type_or_shape_is_named(
    factory: Any, path: tuple[str, ...], value: Any, expected: str
) -> None:
    document = factory()
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    assert expected in field_errors(document)


@pytest.mark.parametrize(
    ("factory", "path", "value", "expected"),
    [
        (
            documents.grant,
            ("spec", "principal", "kind"),
            "robot",
            "spec.principal.kind: must be one of: user, group, system, agent",
        ),
        (
            documents.oauth2_provider,
            ("spec", "type"),
            "apikey",
            "spec.type: must be one of: oauth2, secret",
        ),
        (
            documents.oauth2_provider,
            ("spec", "oauth2", "clientAuthMethod"),
            "private_key_jwt",
            "spec.oauth2.clientAuthMethod: must be one of: "
            "client_secret_basic, client_secret_post, none",
        ),
        (
            documents.secret_provider,
            ("spec", "injections"),
            [{"type": "cookie"}],
            "spec.injections[0].type: must be one of: bearer, basic, header, query",
        ),
        (
            documents.app,
            ("spec", "identity", "algorithms"),
            ["HS256"],
            "spec.identity.algorithms[0]: must be one of: "
            "RS256, RS384, RS512, ES256, ES384, PS256, EdDSA",
        ),
        (
            documents.grant,
            ("spec", "restrictions"),
            {"methods": ["get"]},
            "spec.restrictions.methods[0]: must be one of: "
            "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        ),
        (
            documents.agent,
            ("apiVersion",),
            "strongroom.dev/v1",
            "apiVersion: must be strongroom.dev/v1alpha1",
        ),
        (documents.agent, ("kind",), "Robot", "kind: must be one of: App, Provider, Grant, Agent"),
    ],
)
def test_bad_enum_value_lists_the_allowed_ones(
    factory: Any, path: tuple[str, ...], value: Any, expected: str
) -> None:
    document = factory()
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    assert expected in field_errors(document)


def test_unknown_fields_are_rejected_with_their_path() -> None:
    document = documents.oauth2_provider()
    document["spec"]["oauth2"]["tokenUrl"] = "https://auth.example.com/token"
    document["spec"]["allowedhosts"] = ["x.example.com"]
    document["specs"] = {}
    found = field_errors(document)
    assert "specs: unknown field (known fields: apiVersion, kind, metadata, spec, status)" in found
    assert any(
        e.startswith("spec.allowedhosts: unknown field (known fields: allowedHosts,") for e in found
    )
    assert any(e.startswith("spec.oauth2.tokenUrl: unknown field (known fields:") for e in found)


def test_status_is_accepted_and_ignored() -> None:
    document = documents.grant()
    document["status"] = {"state": "Ready", "anything": True}
    assert isinstance(parsing.parse_resource(document), models.Grant)


@pytest.mark.parametrize("document", [None, "text", 3, ["a"]])
def test_a_document_that_is_not_a_mapping_is_refused(document: Any) -> None:
    assert field_errors(document) == ["document: must be a mapping"]


def test_every_problem_of_a_document_is_reported_at_once() -> None:
    document = documents.grant()
    document["metadata"]["name"] = "Bad Name"
    document["spec"]["principal"]["kind"] = "robot"
    document["spec"]["scopes"] = "read"
    assert len(field_errors(document)) == 3


# --- secrets never echoed -----------------------------------------------------------------------


def test_credential_values_never_appear_in_errors_or_repr() -> None:
    secret = canary.new("sealed")
    document = documents.grant()
    document["spec"]["credential"] = {"sealedValue": secret, "secretRef": {"name": "s"}}
    document["spec"]["principal"]["kind"] = secret
    document["spec"]["scopes"] = {"value": secret}
    document["spec"]["ttl"] = secret
    document["spec"]["expiresAt"] = secret
    document["metadata"]["labels"] = {"x": secret, "y": 1}
    with pytest.raises(errors.ValidationError) as caught:
        parsing.parse_resource(document)
    text = str(caught.value) + repr(caught.value) + repr(caught.value.errors)
    assert canary.found_in(text) == []

    valid = documents.grant()
    valid["spec"]["credential"] = {"sealedValue": secret}
    grant = parsing.parse_resource(valid)
    assert canary.found_in(repr(grant)) == []


def test_sealed_value_of_wrong_type_says_so_without_the_value() -> None:
    secret = canary.new("plaintext")
    document = documents.grant()
    document["spec"]["credential"] = {"sealedValue": {"token": secret}}
    assert field_errors(document) == [
        "spec.credential.sealedValue: must be a string, not an object"
    ]


# --- presets ------------------------------------------------------------------------------------


def preset_document(preset: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": documents.API_VERSION,
        "kind": "Provider",
        "metadata": {"name": preset},
        "spec": {"appRef": "demo", "preset": preset, **spec},
    }


def test_preset_fills_unset_fields_and_the_users_fields_win() -> None:
    document = preset_document(
        "github",
        allowedHosts=["github.example.com"],
        oauth2={"clientId": "abc", "clientSecretRef": {"name": "gh"}, "pkce": False},
    )
    provider = parsing.parse_resource(document)
    assert isinstance(provider, models.Provider)
    assert provider.preset == "github"
    assert provider.type == "oauth2"
    assert provider.allowed_hosts == ("github.example.com",)
    assert provider.oauth2 is not None
    assert provider.oauth2.token_url == catalog.load_preset("github")["oauth2"]["tokenURL"]
    assert provider.oauth2.client_id == "abc"
    assert provider.oauth2.pkce is False


def test_unknown_preset_is_named_at_spec_preset() -> None:
    oauth2 = {"clientId": "abc", "clientSecretRef": {"name": "gh"}}
    found = field_errors(preset_document("gitbub", oauth2=oauth2))
    assert len(found) == 1
    assert re.match(r"spec\.preset: unknown preset 'gitbub'; known presets: .*github", found[0])


def test_preset_does_not_excuse_what_only_the_user_can_give() -> None:
    assert field_errors(preset_document("github", oauth2={"clientSecretRef": {"name": "gh"}})) == [
        "spec.oauth2.clientId: required"
    ]


@pytest.mark.parametrize("name", catalog.preset_names())
def test_every_catalog_preset_yields_a_valid_provider(name: str) -> None:
    extra: dict[str, Any] = {}
    if catalog.load_preset(name).get("type") == "oauth2":
        extra["oauth2"] = {"clientId": "abc", "clientSecretRef": {"name": "client"}}
    provider = parsing.parse_resource(preset_document(name, **extra))
    assert isinstance(provider, models.Provider)
    assert provider.allowed_hosts


# --- injections beyond CEL ----------------------------------------------------------------------


def test_injection_template_naming_an_undeclared_field_is_refused() -> None:
    document = documents.secret_provider()
    document["spec"]["injections"] = [{"type": "header", "name": "X-Key", "format": "{tokn}"}]
    (message,) = field_errors(document)
    assert message.startswith("spec.injections[0]: injections[0] uses field 'tokn'")


def test_oauth2_injection_may_use_the_oauth2_credential_fields() -> None:
    document = documents.oauth2_provider()
    document["spec"]["injections"] = [
        {"type": "header", "name": "Authorization", "format": "{token_type} {access_token}"}
    ]
    assert isinstance(parsing.parse_resource(document), models.Provider)


def test_two_injections_writing_one_header_are_refused() -> None:
    document = documents.secret_provider()
    document["spec"]["injections"] = [
        {"type": "bearer"},
        {"type": "header", "name": "Authorization"},
    ]
    (message,) = field_errors(document)
    assert message.startswith("spec.injections[1]: ")
    assert "Authorization" in message
