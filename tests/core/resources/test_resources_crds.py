"""The CRD files are valid apiextensions.k8s.io/v1 objects with structural, documented schemas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import celpy
import kubernetes_validate
import pytest
import yaml

from strongroom_core.resources import schemas, validation

ROOT = Path(__file__).resolve().parents[3]
CRD_DIR = ROOT / "crds"
PACKAGE_CRD_DIR = ROOT / "core" / "strongroom_core" / "resources" / "crds"
KINDS = ["App", "Provider", "Grant", "Agent"]
# Short names of built-in kinds (kubectl api-resources on a current cluster).
BUILT_IN_SHORT_NAMES = {
    "cs", "cm", "ep", "ev", "limits", "ns", "no", "pvc", "pv", "po", "rc", "quota", "sa", "svc",
    "crd", "crds", "ds", "deploy", "rs", "sts", "hpa", "cj", "csr", "ing", "netpol", "pdb", "pc",
    "sc", "ingclass", "vac", "rq", "psp",
}  # fmt: skip


def crd(kind: str) -> dict[str, Any]:
    loaded = yaml.safe_load((CRD_DIR / schemas.crd_file_name(kind)).read_text())
    assert isinstance(loaded, dict)
    return loaded


def walk(schema: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from walk(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}{{}}")


@pytest.mark.parametrize("kind", KINDS)
def test_crd_is_a_valid_apiextensions_v1_object(kind: str) -> None:
    kubernetes_validate.validate(crd(kind), "1.30", strict=True)


@pytest.mark.parametrize("kind", KINDS)
def test_crd_names_group_version_and_scope_as_designed(kind: str) -> None:
    spec = crd(kind)["spec"]
    plural = schemas.PLURALS[kind]
    assert crd(kind)["metadata"]["name"] == f"{plural}.strongroom.dev"
    assert spec["group"] == "strongroom.dev"
    assert spec["scope"] == "Namespaced"
    assert spec["names"]["kind"] == kind
    assert spec["names"]["categories"] == ["strongroom"]
    (version,) = spec["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    assert version["subresources"] == {"status": {}}


def test_short_names_are_unique_and_clash_with_no_built_in_kind() -> None:
    short_names = [name for kind in KINDS for name in crd(kind)["spec"]["names"]["shortNames"]]
    assert len(short_names) == len(set(short_names))
    assert not set(short_names) & BUILT_IN_SHORT_NAMES


@pytest.mark.parametrize("kind", KINDS)
def test_every_schema_field_has_a_description_and_a_type(kind: str) -> None:
    root = schemas.root_schema(kind)
    undocumented = [path for path, node in walk(root, kind) if not node.get("description")]
    untyped = [path for path, node in walk(root, kind) if "type" not in node]
    assert undocumented == []
    assert untyped == []


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_structural_no_forbidden_keywords(kind: str) -> None:
    # Structural schemas forbid these; defaults must sit next to a type, never under them.
    forbidden = {"anyOf", "oneOf", "allOf", "not", "$ref", "additionalItems", "definitions"}
    for path, node in walk(schemas.root_schema(kind), kind):
        assert not forbidden & set(node), path
        if "default" in node:
            assert not path.startswith(f"{kind}.metadata"), path


@pytest.mark.parametrize("kind", KINDS)
def test_package_copy_of_the_crd_equals_crds_folder(kind: str) -> None:
    name = schemas.crd_file_name(kind)
    assert (PACKAGE_CRD_DIR / name).read_bytes() == (CRD_DIR / name).read_bytes(), (
        f"refresh with: cp crds/{name} core/strongroom_core/resources/crds/"
    )


def test_crds_folder_holds_exactly_the_four_kinds() -> None:
    expected = sorted(schemas.crd_file_name(kind) for kind in KINDS)
    assert sorted(p.name for p in CRD_DIR.glob("*.yaml")) == expected
    assert sorted(p.name for p in PACKAGE_CRD_DIR.glob("*.yaml")) == expected


def all_rules() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for kind in KINDS:
        for path, node in walk(schemas.root_schema(kind), kind):
            for rule in node.get("x-kubernetes-validations", ()):
                yield kind, path, rule


def test_every_cel_rule_compiles_and_says_why() -> None:
    env = celpy.Environment()
    for kind, path, rule in all_rules():
        env.compile(rule["rule"])
        assert rule.get("message") or rule.get("messageExpression"), (kind, path)
        if "messageExpression" in rule:
            env.compile(rule["messageExpression"])


def test_every_cel_rule_field_path_names_a_property_of_its_schema() -> None:
    for kind in KINDS:
        for path, node in walk(schemas.root_schema(kind), kind):
            for rule in node.get("x-kubernetes-validations", ()):
                target = node
                for part in rule.get("fieldPath", "").split(".")[1:]:
                    assert part in target["properties"], (kind, path, rule["fieldPath"])
                    target = target["properties"][part]


def test_every_cel_rule_has_a_python_mirror_and_no_mirror_is_stale() -> None:
    rules = {validation.normalize_rule(rule["rule"]) for _, _, rule in all_rules()}
    validation_rules = {rule for rule in rules if "oldSelf" not in rule}
    assert validation_rules == set(validation.mirrored_rules())


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("Provider", "appRef"),
        ("Grant", "appRef"),
        ("Grant", "providerRef"),
        ("Grant", "principal"),
        ("Agent", "appRef"),
    ],
)
def test_reference_and_principal_fields_are_immutable(kind: str, field: str) -> None:
    node = schemas.spec_schema(kind)["properties"][field]
    rules = [rule["rule"] for rule in node["x-kubernetes-validations"]]
    assert "self == oldSelf" in rules


@pytest.mark.parametrize(
    ("kind", "columns"),
    [
        ("App", {"Ready", "Age"}),
        ("Provider", {"Type", "App", "Ready", "Age"}),
        ("Grant", {"Provider", "Principal", "State", "Token-Expires", "Age"}),
        ("Agent", {"App", "Suspended", "Age"}),
    ],
)
def test_printer_columns_show_what_an_operator_looks_for(kind: str, columns: set[str]) -> None:
    (version,) = crd(kind)["spec"]["versions"]
    assert columns <= {column["name"] for column in version["additionalPrinterColumns"]}


def test_grant_status_carries_state_conditions_and_token_expiry() -> None:
    status = schemas.root_schema("Grant")["properties"]["status"]["properties"]
    assert set(status["state"]["enum"]) == {
        "Ready",
        "NeedsReauth",
        "Revoked",
        "Expired",
        "Pending",
        "Invalid",
    }
    assert {"message", "conditions", "lastUsed", "tokenExpiresAt", "observedGeneration"} <= set(
        status
    )
    condition = status["conditions"]["items"]["properties"]
    assert set(condition) == {
        "type", "status", "reason", "message", "observedGeneration", "lastTransitionTime",
    }  # fmt: skip
