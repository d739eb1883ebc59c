"""The RBAC check the chart tests will run (tests/rbac_expectations.py) catches what it must.
Nothing in the tree ships RBAC objects yet; the chart (next issue) runs this on its output."""

from __future__ import annotations

from typing import Any

from tests import rbac_expectations

NS = "strongroom-system"


def role(
    kind: str, name: str, component: str, rules: list[dict[str, Any]], **labels: str
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "labels": {rbac_expectations.COMPONENT_LABEL: component, **labels},
    }
    if kind == "Role":
        metadata["namespace"] = NS
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "rules": rules,
    }


def binding(kind: str, role_kind: str, name: str, subjects: list[dict[str, str]]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if kind == "RoleBinding":
        metadata["namespace"] = NS
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
        "subjects": subjects,
    }


CP_SA = {"kind": "ServiceAccount", "name": "strongroom-controlplane", "namespace": NS}
SECRETS = {
    "apiGroups": [""],
    "resources": ["secrets"],
    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
}


def least_privilege() -> list[dict[str, Any]]:
    return [
        role("Role", "strongroom-controlplane", "controlplane", [SECRETS]),
        binding("RoleBinding", "Role", "strongroom-controlplane", [CP_SA]),
        role(
            "ClusterRole",
            "strongroom-controlplane-review",
            "controlplane",
            [
                {
                    "apiGroups": ["authentication.k8s.io"],
                    "resources": ["tokenreviews"],
                    "verbs": ["create"],
                },
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
                {"apiGroups": ["strongroom.dev"], "resources": ["apps"], "verbs": ["get"]},
            ],
        ),
        binding("ClusterRoleBinding", "ClusterRole", "strongroom-controlplane-review", [CP_SA]),
        role(
            "ClusterRole",
            "strongroom-edit",
            "user",
            [
                {
                    "apiGroups": ["strongroom.dev"],
                    "resources": ["grants", "agents"],
                    "verbs": ["get", "create"],
                }
            ],
            **{"rbac.authorization.k8s.io/aggregate-to-edit": "true"},
        ),
    ]


def test_the_control_planes_least_privilege_rbac_passes() -> None:
    assert rbac_expectations.violations(least_privilege()) == []


def test_secrets_in_an_aggregated_user_role_are_caught() -> None:
    objects = least_privilege()
    objects[-1]["rules"].append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})
    assert any(
        "Secrets for a non-Strongroom subject" in v for v in rbac_expectations.violations(objects)
    )


def test_a_wildcard_is_caught() -> None:
    objects = least_privilege()
    objects[2]["rules"].append({"apiGroups": [""], "resources": ["*"], "verbs": ["get"]})
    found = rbac_expectations.violations(objects)
    assert any("wildcard" in v for v in found)


def test_a_verb_the_control_plane_does_not_use_is_caught() -> None:
    objects = least_privilege()
    objects[2]["rules"].append({"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]})
    assert rbac_expectations.violations(objects) == [
        "ClusterRole strongroom-controlplane-review rules[3]: controlplane does not use delete pods"
    ]


def test_cluster_wide_secrets_for_the_control_plane_are_caught() -> None:
    objects = least_privilege()
    objects[2]["rules"].append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})
    assert any("does not use get secrets" in v for v in rbac_expectations.violations(objects))


def test_secrets_rights_bound_to_an_app_service_account_or_a_group_are_caught() -> None:
    objects = least_privilege()
    objects[1]["subjects"] += [
        {"kind": "ServiceAccount", "name": "shop", "namespace": "team-a"},
        {"kind": "Group", "name": "system:serviceaccounts"},
    ]
    found = rbac_expectations.violations(objects)
    assert (
        "RoleBinding strongroom-controlplane: gives Secrets rights to ServiceAccount team-a/shop"
        in found
    )
    assert any("Group" in v for v in found)
