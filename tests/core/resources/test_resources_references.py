"""check_references: what only a view of all resources can tell, named by field."""

from __future__ import annotations

from typing import Any

from strongroom_core.resources import errors, models, parsing, validation
from tests.core.resources import documents


def parse_all(*docs: dict[str, Any]) -> list[models.Resource]:
    return [parsing.parse_resource(doc) for doc in docs]


def problems(*docs: dict[str, Any]) -> dict[models.Ref, list[str]]:
    found = validation.check_references(parse_all(*docs))
    for ref, error in found.items():
        assert isinstance(error, errors.ValidationError)
        assert (error.kind, error.namespace, error.name) == ref
    return {ref: [str(e) for e in error.errors] for ref, error in found.items()}


def test_a_consistent_set_has_no_problems() -> None:
    assert problems(*documents.all_valid()) == {}


def test_app_reference_that_does_not_exist_is_named() -> None:
    provider, grant, agent = documents.oauth2_provider(), documents.grant(), documents.agent()
    assert problems(provider, grant, agent) == {
        ("Provider", "default", "example"): [
            'spec.appRef: App "demo" not found in namespace "default"'
        ],
        ("Grant", "default", "alice-example"): [
            'spec.appRef: App "demo" not found in namespace "default"'
        ],
        ("Agent", "default", "bot"): ['spec.appRef: App "demo" not found in namespace "default"'],
    }


def test_app_of_another_namespace_does_not_count() -> None:
    app = documents.app()
    app["metadata"]["namespace"] = "other"
    provider = documents.oauth2_provider()
    assert problems(app, provider) == {
        ("Provider", "default", "example"): [
            'spec.appRef: App "demo" not found in namespace "default"'
        ]
    }


def test_grant_naming_an_unknown_provider_is_refused() -> None:
    grant = documents.grant()
    grant["spec"]["providerRef"] = "gitlab"
    assert problems(documents.app(), grant) == {
        ("Grant", "default", "alice-example"): [
            'spec.providerRef: Provider "gitlab" not found in namespace "default"'
        ]
    }


def test_grant_of_a_provider_of_another_app_is_refused() -> None:
    other_app = documents.app()
    other_app["metadata"]["name"] = "other"
    provider = documents.oauth2_provider()
    provider["spec"]["appRef"] = "other"
    assert problems(documents.app(), other_app, provider, documents.grant()) == {
        ("Grant", "default", "alice-example"): [
            'spec.providerRef: Provider "example" belongs to App "other", not "demo"'
        ]
    }


def test_grant_scopes_on_a_secret_provider_are_refused() -> None:
    grant = documents.grant()
    grant["spec"]["providerRef"] = "stripe-key"
    assert problems(documents.app(), documents.secret_provider(), grant) == {
        ("Grant", "default", "alice-example"): [
            'spec.scopes: Provider "stripe-key" is type secret; scopes apply to oauth2 only'
        ]
    }


def test_single_secret_key_for_a_provider_with_several_fields_is_refused() -> None:
    provider = documents.secret_provider()
    provider["spec"]["secret"] = {"fields": ["username", "password"]}
    provider["spec"]["injections"] = [{"type": "basic"}]
    grant = documents.grant()
    grant["spec"].update(
        providerRef="stripe-key",
        scopes=[],
        credential={"secretRef": {"name": "creds", "key": "password"}},
    )
    found = problems(documents.app(), provider, grant)
    (message,) = found[("Grant", "default", "alice-example")]
    assert message.startswith(
        'spec.credential.secretRef.key: Provider "stripe-key" needs the fields username, password'
    )


def test_single_secret_key_is_fine_for_a_single_field_provider() -> None:
    grant = documents.grant()
    grant["spec"].update(
        providerRef="stripe-key", scopes=[], credential={"secretRef": {"name": "k", "key": "api"}}
    )
    assert problems(documents.app(), documents.secret_provider(), grant) == {}


def test_agent_access_to_unknown_or_foreign_grants_and_providers_is_named() -> None:
    other_app = documents.app()
    other_app["metadata"]["name"] = "other"
    foreign_grant = documents.grant()
    foreign_grant["metadata"]["name"] = "foreign"
    foreign_grant["spec"]["appRef"] = "other"
    foreign_grant["spec"]["providerRef"] = "other-provider"
    foreign_grant["spec"]["scopes"] = []
    foreign_provider = documents.secret_provider()
    foreign_provider["metadata"]["name"] = "other-provider"
    foreign_provider["spec"]["appRef"] = "other"
    agent = documents.agent()
    agent["spec"]["access"] = [
        {"grant": "missing"},
        {"grant": "foreign"},
        {"provider": "missing"},
        {"provider": "other-provider"},
        {"provider": "stripe-key", "scopes": ["read"]},
    ]
    found = problems(
        documents.app(),
        other_app,
        documents.secret_provider(),
        foreign_provider,
        foreign_grant,
        agent,
    )
    assert found == {
        ("Agent", "default", "bot"): [
            'spec.access[0].grant: Grant "missing" not found in namespace "default"',
            'spec.access[1].grant: Grant "foreign" belongs to App "other", not "demo"',
            'spec.access[2].provider: Provider "missing" not found in namespace "default"',
            'spec.access[3].provider: Provider "other-provider" belongs to App "other", not "demo"',
            'spec.access[4].scopes: Provider "stripe-key" is type secret; '
            "scopes apply to oauth2 only",
        ]
    }


def test_same_kind_and_name_loaded_twice_is_refused() -> None:
    assert problems(documents.app(), documents.app()) == {
        ("App", "default", "demo"): ["metadata.name: another App has this name"]
    }


def test_same_name_in_two_kinds_is_fine() -> None:
    provider = documents.oauth2_provider()
    provider["metadata"]["name"] = "demo"
    grant = documents.grant()
    grant["spec"]["providerRef"] = "demo"
    assert problems(documents.app(), provider, grant) == {}


def _client_credentials_grant(kind: str = "system") -> dict[str, Any]:
    grant = documents.grant()
    grant["spec"]["principal"] = {"kind": kind, "id": "reporting"}
    grant["spec"]["credential"] = {"clientCredentials": {}}
    return grant


def test_client_credentials_grant_parses_for_system_and_agent_principals() -> None:
    for kind in ("system", "agent"):
        grant = parsing.parse_resource(_client_credentials_grant(kind))
        assert isinstance(grant, models.Grant)
        assert grant.credential == models.Credential(client_credentials=True)
        assert (
            problems(documents.app(), documents.oauth2_provider(), _client_credentials_grant(kind))
            == {}
        )


def test_client_credentials_on_a_secret_provider_are_refused() -> None:
    grant = _client_credentials_grant()
    grant["spec"]["providerRef"] = "stripe-key"
    grant["spec"].pop("scopes")
    assert problems(documents.app(), documents.secret_provider(), grant) == {
        ("Grant", "default", "alice-example"): [
            'spec.credential.clientCredentials: Provider "stripe-key" is type secret; the '
            "client credentials grant needs an oauth2 Provider: seal the credential into "
            "sealedValue instead"
        ]
    }


def test_client_credentials_with_a_public_client_are_refused() -> None:
    provider = documents.oauth2_provider()
    provider["spec"]["oauth2"]["clientAuthMethod"] = "none"
    provider["spec"]["oauth2"].pop("clientSecretRef")
    found = problems(documents.app(), provider, _client_credentials_grant())
    assert list(found) == [("Grant", "default", "alice-example")]
    [message] = found[("Grant", "default", "alice-example")]
    assert message.startswith("spec.credential.clientCredentials: ")
    assert "clientAuthMethod none" in message
