"""Every object the chart renders, with default and non-default values, passes
``kubernetes-validate --strict`` for the oldest supported and the newest known Kubernetes.
Custom kinds are checked against their CRD's schema when the chart ships the CRD, and skipped
with a reason when it does not (cert-manager's and trust-manager's own CRDs)."""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from tests.chart import rendering

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())

NOT_OURS = {
    "cert-manager.io": "cert-manager's CRDs come with cert-manager, not with this chart",
    "trust.cert-manager.io": "trust-manager's CRDs come with trust-manager, not with this chart",
}

VALUES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "cert-manager everywhere": {
        "controlPlane": {
            "tls": {"mode": "cert-manager"},
            "caBundle": {"trustManager": {"enabled": True}},
        },
        "webhook": {"tls": {"mode": "cert-manager"}},
    },
    "own secrets": {
        "controlPlane": {"tls": {"mode": "secret", "secretName": "cp", "caBundle": PEM}},
        "webhook": {"tls": {"mode": "secret", "secretName": "wh", "caBundle": PEM}},
    },
    "crds off, several replicas, extras": {
        "crds": {"enabled": False},
        "operator": {"replicas": 3, "deletePlaintextSecrets": True},
        "controlPlane": {
            "replicas": 5,
            "caBundle": {"namespaces": ["team-a"]},
            "networkPolicy": {
                "enabled": True,
                "extraIngressFrom": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
            },
            "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
            "nodeSelector": {"kubernetes.io/os": "linux"},
        },
        "webhook": {
            "replicas": 3,
            "matchConditions": [{"name": "skip-kube", "expression": "true"}],
        },
        "imagePullSecrets": ["regcred"],
        "audit": {"persistence": {"enabled": False}},
    },
}


def _crd_schemas(objects: list[rendering.Object]) -> dict[tuple[str, str], dict[str, Any]]:
    schemas = {}
    for crd in rendering.kinds(objects, "CustomResourceDefinition"):
        for version in crd["spec"]["versions"]:
            key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
            schemas[key] = version["schema"]["openAPIV3Schema"]
    return schemas


@pytest.mark.parametrize("case", sorted(VALUES))
@pytest.mark.parametrize("version", VERSIONS)
def test_every_rendered_object_validates_strictly(case: str, version: str) -> None:
    objects = rendering.render(VALUES[case])
    crds = _crd_schemas(rendering.render())  # with crds off the CRDs still exist in the cluster
    checked = 0
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        group = obj["apiVersion"].rpartition("/")[0]
        if (obj["apiVersion"], obj["kind"]) in crds:
            body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
            jsonschema.validate(body, crds[(obj["apiVersion"], obj["kind"])])
        elif group in NOT_OURS:
            continue
        else:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                pytest.fail(f"{case}: {where}: {e.message} at {list(e.path)}")
        checked += 1
    assert checked >= 30


def test_custom_kinds_the_chart_does_not_ship_are_only_cert_manager_ones() -> None:
    crds = _crd_schemas(rendering.render())
    for values in VALUES.values():
        for obj in rendering.render(values):
            group = obj["apiVersion"].rpartition("/")[0]
            if (
                "." in group
                and not group.endswith("k8s.io")
                and (obj["apiVersion"], obj["kind"]) not in crds
            ):
                assert group in NOT_OURS, obj["apiVersion"]
