"""Every CEL rule in the CRDs agrees with its Python mirror.

The rules are evaluated for real with cel-python on the defaulted spec, and the set of
(field path, message) pairs CEL rejects must equal what ``parse_resource`` reports. The table
below holds, per rule, a document that breaks it; a test asserts the table covers every rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import celpy
import pytest

from strongroom_core.resources import (
    checking,
    errors,
    models,
    parsing,
    schemas,
    validation,
)
from tests.core.resources import documents

Document = dict[str, Any]
_ENV = celpy.Environment()


def _evaluate(expression: str, activation: dict[str, Any]) -> Any:
    program = _ENV.program(_ENV.compile(expression))
    result = program.evaluate(
        {name: celpy.json_to_cel(value) for name, value in activation.items()}
    )
    assert not isinstance(result, celpy.CELEvalError), (expression, result)
    return result


def _sites(
    schema: dict[str, Any], value: Any, path: str
) -> Iterator[tuple[dict[str, Any], Any, str]]:
    yield schema, value, path
    if schema.get("type") == "object" and isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                yield from _sites(sub, value[name], f"{path}.{name}")
    if schema.get("type") == "array" and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _sites(schema["items"], item, f"{path}[{index}]")


def defaulted_spec(document: Document) -> Any:
    findings = checking.Findings()
    spec = checking.check(
        document["spec"],
        schemas.spec_schema(document["kind"]),
        "spec",
        findings,
        validation.Options(),
    )
    assert findings.structural == 0, findings.errors
    return spec


def cel_violations(document: Document) -> dict[tuple[str, str], str]:
    """(path, message) → rule, for every CEL rule the document's spec breaks."""
    found: dict[tuple[str, str], str] = {}
    spec = defaulted_spec(document)
    for schema, value, path in _sites(schemas.spec_schema(document["kind"]), spec, "spec"):
        for rule in schema.get("x-kubernetes-validations", ()):
            if "oldSelf" in rule["rule"]:
                continue
            if _evaluate(rule["rule"], {"self": value}):
                continue
            if "messageExpression" in rule:
                message = str(_evaluate(rule["messageExpression"], {"self": value}))
            else:
                message = " ".join(rule["message"].split())
            found[(path + rule.get("fieldPath", ""), message)] = validation.normalize_rule(
                rule["rule"]
            )
    return found


def core_errors(document: Document) -> set[tuple[str, str]]:
    try:
        parsing.parse_resource(document)
    except errors.ValidationError as error:
        return {(e.path, e.message) for e in error.errors}
    return set()


def _with(factory: Callable[[], Document], change: Callable[[Document], object]) -> Document:
    document = factory()
    change(document)
    return document


def _spec(document: Document) -> dict[str, Any]:
    spec = document["spec"]
    assert isinstance(spec, dict)
    return spec


BROKEN: dict[str, Document] = {
    "issuer over http": _with(
        documents.app, lambda d: _spec(d)["identity"].update(issuer="http://id.example.com")
    ),
    "token URL over http": _with(
        documents.oauth2_provider,
        lambda d: _spec(d)["oauth2"].update(tokenURL="http://auth.example.com/token"),
    ),
    "return URL to a foreign http host": _with(
        documents.app,
        lambda d: _spec(d)["connect"].update(returnURLs=["http://evil.example.com/done"]),
    ),
    "provider without type or preset": _with(
        documents.secret_provider, lambda d: _spec(d).pop("type")
    ),
    "provider without allowed hosts": _with(
        documents.oauth2_provider, lambda d: _spec(d).update(allowedHosts=[])
    ),
    "secret provider with oauth2 settings": _with(
        documents.secret_provider,
        lambda d: _spec(d).update(
            oauth2={
                "tokenURL": "https://a.example.com/t",
                "clientId": "c",
                "clientAuthMethod": "none",
            }
        ),
    ),
    "oauth2 provider without oauth2 settings": _with(
        documents.oauth2_provider, lambda d: _spec(d).pop("oauth2")
    ),
    "oauth2 provider with secret settings": _with(
        documents.oauth2_provider, lambda d: _spec(d).update(secret={"fields": ["token"]})
    ),
    "oauth2 settings without token URL": _with(
        documents.oauth2_provider, lambda d: _spec(d)["oauth2"].pop("tokenURL")
    ),
    "query injection without a name": _with(
        documents.secret_provider, lambda d: _spec(d).update(injections=[{"type": "query"}])
    ),
    "header injection without a name": _with(
        documents.secret_provider,
        lambda d: _spec(d).update(injections=[{"type": "bearer"}, {"type": "header"}]),
    ),
    "basic templates on a bearer injection": _with(
        documents.secret_provider,
        lambda d: _spec(d).update(injections=[{"type": "bearer", "password": "{x}"}]),
    ),
    "confidential client without a secret": _with(
        documents.oauth2_provider, lambda d: _spec(d)["oauth2"].pop("clientSecretRef")
    ),
    "grant with expiresAt and ttl": _with(
        documents.grant, lambda d: _spec(d).update(expiresAt="2030-01-01T00:00:00Z", ttl="1h")
    ),
    "grant credential with both values": _with(
        documents.grant,
        lambda d: _spec(d)["credential"].update(secretRef={"name": "alice-token"}),
    ),
    "grant credential with neither value": _with(
        documents.grant, lambda d: _spec(d).update(credential={})
    ),
    "grant credential sealed and by client credentials": _with(
        documents.grant,
        lambda d: (
            _spec(d)["principal"].update(kind="system"),
            _spec(d)["credential"].update(clientCredentials={}),
        ),
    ),
    "user grant by client credentials": _with(
        documents.grant, lambda d: _spec(d).update(credential={"clientCredentials": {}})
    ),
    "agent access entry naming nothing": _with(
        documents.agent, lambda d: _spec(d)["access"].append({})
    ),
    "agent access entry naming grant and provider": _with(
        documents.agent, lambda d: _spec(d)["access"].append({"grant": "g", "provider": "p"})
    ),
    "agent grant entry with scopes": _with(
        documents.agent, lambda d: _spec(d)["access"].append({"grant": "g", "scopes": ["read"]})
    ),
}


@pytest.mark.parametrize("document", documents.all_valid(), ids=lambda d: d["kind"])
def test_valid_documents_pass_every_cel_rule_and_every_mirror(document: Document) -> None:
    assert cel_violations(document) == {}
    assert core_errors(document) == set()


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_core_reports_exactly_what_cel_rejects_with_the_same_field_and_message(case: str) -> None:
    document = BROKEN[case]
    rejected = cel_violations(document)
    assert rejected, "the table entry breaks no CEL rule"
    assert core_errors(document) == set(rejected)


def test_the_table_breaks_every_cel_rule_of_the_crds() -> None:
    broken = {rule for document in BROKEN.values() for rule in cel_violations(document).values()}
    assert broken == set(validation.mirrored_rules())


def test_loopback_http_is_accepted_only_when_asked_for() -> None:
    document = _with(
        documents.oauth2_provider,
        lambda d: _spec(d)["oauth2"].update(tokenURL="http://127.0.0.1:9000/token"),
    )
    assert core_errors(document) == {("spec.oauth2.tokenURL", "must be an https:// URL")}
    provider = parsing.parse_resource(document, allow_loopback_http=True)
    assert isinstance(provider, models.Provider)
    assert provider.oauth2 is not None
    assert provider.oauth2.token_url == "http://127.0.0.1:9000/token"


def test_loopback_permission_does_not_open_other_http_hosts() -> None:
    document = _with(
        documents.oauth2_provider,
        lambda d: _spec(d)["oauth2"].update(tokenURL="http://auth.example.com/token"),
    )
    with pytest.raises(errors.ValidationError, match=r"spec\.oauth2\.tokenURL: must be an https"):
        parsing.parse_resource(document, allow_loopback_http=True)


IMMUTABLE: list[tuple[Callable[[], Document], str, Callable[[Document], object]]] = [
    (documents.oauth2_provider, "appRef", lambda d: _spec(d).update(appRef="other")),
    (documents.grant, "appRef", lambda d: _spec(d).update(appRef="other")),
    (documents.grant, "providerRef", lambda d: _spec(d).update(providerRef="other")),
    (documents.grant, "principal", lambda d: _spec(d)["principal"].update(id="bob")),
    (documents.grant, "principal", lambda d: _spec(d)["principal"].update(kind="group")),
    (documents.agent, "appRef", lambda d: _spec(d).update(appRef="other")),
]


@pytest.mark.parametrize(("factory", "field", "change"), IMMUTABLE)
def test_immutable_field_change_is_refused_by_cel_and_by_check_immutable(
    factory: Callable[[], Document], field: str, change: Callable[[Document], object]
) -> None:
    old, new = factory(), _with(factory, change)
    rule = schemas.spec_schema(old["kind"])["properties"][field]["x-kubernetes-validations"][0]
    assert rule["rule"] == "self == oldSelf"
    assert not _evaluate(rule["rule"], {"self": new["spec"][field], "oldSelf": old["spec"][field]})
    result = validation.check_immutable(parsing.parse_resource(old), parsing.parse_resource(new))
    assert result == [errors.FieldError(f"spec.{field}", rule["message"])]


@pytest.mark.parametrize("factory", [documents.oauth2_provider, documents.grant, documents.agent])
def test_unchanged_immutable_fields_pass(factory: Callable[[], Document]) -> None:
    old = parsing.parse_resource(factory())
    new = parsing.parse_resource(_with(factory, lambda d: _spec(d).update(appRef="demo")))
    assert validation.check_immutable(old, new) == []


def test_a_document_cannot_change_kind() -> None:
    old = parsing.parse_resource(documents.grant())
    new = parsing.parse_resource(documents.agent())
    assert validation.check_immutable(old, new) == [
        errors.FieldError("kind", "cannot change from Grant to Agent")
    ]
