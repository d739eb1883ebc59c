"""Whatever a document holds, parsing either returns a model or raises ValidationError naming a
field, and loading never raises at all."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom_core.resources import errors, loading, models, parsing
from tests.core.resources import documents

KEYS = st.sampled_from(
    [
        "apiVersion", "kind", "metadata", "spec", "name", "namespace", "type", "oauth2",
        "secret", "tokenURL", "clientId", "injections", "allowedHosts", "preset", "appRef",
        "providerRef", "principal", "credential", "sealedValue", "secretRef", "ttl",
        "expiresAt", "access", "grant", "provider", "scopes", "identity", "x",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["oauth2", "secret", "header", "https://a.example.com", "1h", "github"]),
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)


def _parses_or_names_fields(document: Any) -> None:
    failure: errors.ValidationError | None = None
    try:
        resource = parsing.parse_resource(document)
    except errors.ValidationError as error:
        failure = error
    if failure is None:
        assert isinstance(resource, models.App | models.Provider | models.Grant | models.Agent)
        return
    assert failure.errors
    assert all(isinstance(e, errors.FieldError) and e.path for e in failure.errors)
    assert str(failure)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(JUNK)
def test_junk_documents_raise_nothing_but_validation_error(document: Any) -> None:
    _parses_or_names_fields(document)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(documents.all_valid()),
    st.lists(st.tuples(st.integers(min_value=0, max_value=1000), KEYS, JUNK), max_size=4),
)
def test_valid_documents_with_random_fields_replaced_raise_only_validation_error(
    document: dict[str, Any], changes: list[tuple[int, str, Any]]
) -> None:
    mutated = copy.deepcopy(document)
    for position, key, value in changes:
        containers = _containers(mutated)
        target = containers[position % len(containers)]
        if isinstance(target, dict):
            target[key] = value
        elif target:
            target[position % len(target)] = value
    _parses_or_names_fields(mutated)


def _containers(value: Any) -> list[Any]:
    found = [value]
    children = value.values() if isinstance(value, dict) else value
    for child in children:
        if isinstance(child, dict | list):
            found.extend(_containers(child))
    return found


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_loading_arbitrary_text_never_raises(text: str) -> None:
    for item in loading.load_documents(text, "fuzz.yaml"):
        assert isinstance(
            item, models.App | models.Provider | models.Grant | models.Agent | loading.LoadFailure
        )


@settings(max_examples=100)
@given(st.sampled_from(documents.all_valid()))
def test_valid_documents_survive_a_yaml_round_trip(document: dict[str, Any]) -> None:
    (loaded,) = loading.load_documents(yaml.safe_dump(document), "round-trip.yaml")
    assert not isinstance(loaded, loading.LoadFailure), str(loaded)
