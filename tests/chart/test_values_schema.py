"""values.schema.json rejects what would render a broken or unsafe release, and every key in
values.yaml carries a comment (the chart's documentation is its values file)."""

from __future__ import annotations

from typing import Any

import helm_python
import pytest
import yaml

from tests.chart import rendering

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

BAD: list[tuple[str, dict[str, Any], str]] = [
    ("an unknown top-level key (a typo)", {"contolPlane": {}}, "contolPlane"),
    ("an unknown nested key", {"webhook": {"failurePolcy": "Fail"}}, "failurePolcy"),
    (
        "a failurePolicy Kubernetes does not know",
        {"webhook": {"failurePolicy": "Sometimes"}},
        "failurePolicy",
    ),
    (
        "a webhook timeout beyond the API server's 30 s",
        {"webhook": {"timeoutSeconds": 31}},
        "timeoutSeconds",
    ),
    ("a webhook timeout of zero", {"webhook": {"timeoutSeconds": 0}}, "timeoutSeconds"),
    (
        "an unknown reinvocationPolicy",
        {"webhook": {"reinvocationPolicy": "Always"}},
        "reinvocationPolicy",
    ),
    ("an unknown webhook TLS mode", {"webhook": {"tls": {"mode": "letsencrypt"}}}, "mode"),
    (
        "webhook secret mode without its Secret",
        {"webhook": {"tls": {"mode": "secret", "caBundle": PEM}}},
        "secretName",
    ),
    (
        "webhook secret mode with a base64 CA instead of PEM",
        {"webhook": {"tls": {"mode": "secret", "secretName": "s", "caBundle": "TUlJQg=="}}},
        "caBundle",
    ),
    (
        "an unknown control-plane TLS mode",
        {"controlPlane": {"tls": {"mode": "self-managed"}}},
        "mode",
    ),
    (
        "control-plane secret mode without its CA",
        {"controlPlane": {"tls": {"mode": "secret", "secretName": "s"}}},
        "caBundle",
    ),
    ("zero control-plane replicas", {"controlPlane": {"replicas": 0}}, "replicas"),
    ("replicas as a string", {"webhook": {"replicas": "2"}}, "replicas"),
    (
        "a review cache longer than a minute",
        {"controlPlane": {"reviewCacheSeconds": 600}},
        "reviewCacheSeconds",
    ),
    (
        "a projected token shorter than the API minimum",
        {"webhook": {"tokenExpirationSeconds": 60}},
        "tokenExpirationSeconds",
    ),
    (
        "a CPU request that is not a quantity",
        {"webhook": {"resources": {"requests": {"cpu": "lots"}}}},
        "cpu",
    ),
    (
        "an unknown resources section",
        {"operator": {"resources": {"maximum": {"cpu": "1"}}}},
        "maximum",
    ),
    ("an image digest that is not sha256", {"image": {"sidecar": {"digest": "latest"}}}, "digest"),
    ("an empty image repository", {"image": {"controlPlane": {"repository": ""}}}, "repository"),
    ("an unknown pull policy", {"image": {"pullPolicy": "Sometimes"}}, "pullPolicy"),
    (
        "a CA namespace that is not a name",
        {"controlPlane": {"caBundle": {"namespaces": ["Team A"]}}},
        "namespaces",
    ),
    (
        "a match condition without an expression",
        {"webhook": {"matchConditions": [{"name": "x"}]}},
        "expression",
    ),
    ("an issuerRef without a kind", {"certManager": {"issuerRef": {"name": "corp"}}}, "issuerRef"),
    (
        "a certificate duration that is not a Go duration",
        {"certManager": {"duration": "90 days"}},
        "duration",
    ),
    (
        "a PodDisruptionBudget allowing no disruption (blocks drains)",
        {"webhook": {"podDisruptionBudget": {"enabled": True, "maxUnavailable": 0}}},
        "maxUnavailable",
    ),
    ("crds.enabled as a string", {"crds": {"enabled": "yes"}}, "enabled"),
]


@pytest.mark.parametrize(("why", "values", "names"), BAD, ids=[b[0] for b in BAD])
def test_schema_rejects(why: str, values: dict[str, Any], names: str) -> None:
    chart = rendering.chart()
    with pytest.raises(helm_python.HelmValuesError) as caught:
        chart.validate_schema(chart.merge_values(values))
    assert names in str(caught.value)
    # and so does a render (an install), before any object is made
    with pytest.raises(helm_python.HelmError):
        chart.render(values, name=rendering.RELEASE, namespace=rendering.NAMESPACE)


GOOD: list[dict[str, Any]] = [
    {},
    {"webhook": {"tls": {"mode": "secret", "secretName": "s", "caBundle": PEM}}},
    {"controlPlane": {"tls": {"mode": "secret", "secretName": "s", "caBundle": PEM}}},
    {
        "certManager": {
            "issuerRef": {"name": "corp", "kind": "ClusterIssuer", "group": "cert-manager.io"}
        }
    },
    {"webhook": {"podDisruptionBudget": {"enabled": True, "maxUnavailable": "50%"}}},
    {"controlPlane": {"resources": {"requests": {"cpu": 1, "memory": "1.5Gi"}}}},
    {"image": {"sidecar": {"digest": "sha256:" + "0" * 64}}},
]


@pytest.mark.parametrize("values", GOOD)
def test_schema_accepts(values: dict[str, Any]) -> None:
    chart = rendering.chart()
    chart.validate_schema(chart.merge_values(values))


KUBERNETES_BLOCKS = ("podSecurityContext", "containerSecurityContext", "resources")
"""Plain Kubernetes fields inside these keys are documented by the key's own comment."""


def _keys_without_comment(lines: list[str]) -> list[str]:
    missing = []
    block_indent: int | None = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if block_indent is not None and indent > block_indent:
            continue
        block_indent = indent if stripped.split(":")[0] in KUBERNETES_BLOCKS else None
        if stripped.startswith("-") or ":" not in stripped:
            continue
        if not lines[index - 1].strip().startswith("#"):
            missing.append(f"line {index + 1}: {stripped}")
    return missing


def test_every_values_key_has_a_comment() -> None:
    lines = (rendering.CHART / "values.yaml").read_text().splitlines()
    assert _keys_without_comment(lines) == []


def test_schema_documents_every_default_key() -> None:
    """Each key of values.yaml is declared in the schema (strict objects would reject it)."""
    defaults = yaml.safe_load((rendering.CHART / "values.yaml").read_text())
    rendering.chart().validate_schema(defaults)


def test_comment_check_reports_an_undocumented_key() -> None:
    lines = ["# documented", "a: 1", "b:", "  # documented", "  c: 2", "resources:", "  cpu: 1"]
    assert _keys_without_comment(lines) == ["line 3: b:", "line 6: resources:"]
