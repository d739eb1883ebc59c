"""The RBAC objects the chart ships, checked on the rendered manifests:

- App ServiceAccounts (any subject that is not one of Strongroom's own ServiceAccounts) get
  nothing on Secrets, directly or through the aggregated user roles;
- the namespace ``edit`` role gets Grant and Agent writes but never App or Provider writes;
- each component holds exactly the permissions below (an explicit allow-list: a permission
  added to the chart fails here until it is justified here, next to the code that uses it);
- ``tests/rbac_expectations.py`` (the shared rules from the control-plane issue) finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from tests import rbac_expectations
from tests.chart import rendering

Permission = tuple[str, str, str, str]
"""(apiGroup, resource, verb, resourceName or "" for any)."""

NS = rendering.NAMESPACE


def _perms(
    group: str, resources: Iterable[str], verbs: Iterable[str], name: str = ""
) -> set[Permission]:
    return {(group, r, v, name) for r in resources for v in verbs}


KINDS = ("apps", "providers", "grants", "agents")

CA_CONFIGMAPS = _perms("", ["configmaps"], ["get", "create", "update", "delete"])
"""kopfhandlers.cabundles, unless trust-manager or the user distributes the CA."""

# --- the allow-list: what each component's code does on the API -------------------------------
ROLE: dict[str, set[Permission]] = {
    # kubestore.storage (records, documents), rootkeys, sealingkeys; changes.watch (watch).
    "controlplane": _perms("", ["secrets"], ["get", "list", "watch", "create", "update", "delete"]),
    # The reconcile logic stores through the same kubestore in the control plane's namespace.
    "operator": _perms("", ["secrets"], ["get", "list", "watch", "create", "update", "delete"]),
    # webhook.certs.sharing: GET/PUT the shared Secret by name, POST to create it.
    "webhook": _perms("", ["secrets"], ["create"])
    | _perms("", ["secrets"], ["get", "update"], "strongroom-webhook-tls"),
}
CLUSTER: dict[str, set[Permission]] = {
    # controlplane.tokenreview: POST tokenreviews, GET the bound pod, GET the App.
    "controlplane": _perms("authentication.k8s.io", ["tokenreviews"], ["create"])
    | _perms("", ["pods"], ["get"])
    | _perms("strongroom.dev", ["apps"], ["get"]),
    # kopf: list/watch/patch every handled kind and its status; kubeio: read referenced
    # Secrets, write Agent key Secrets (owned by the Agent with blockOwnerDeletion, hence
    # agents/finalizers); cabundles: the CA ConfigMap in every namespace with an App (read the
    # source and each copy, create, update on a new CA, delete with the last App); kopf's
    # Events; kopf's CRD watch.
    "operator": _perms("strongroom.dev", KINDS, ["get", "list", "watch", "patch"])
    | _perms("strongroom.dev", [f"{k}/status" for k in KINDS], ["patch"])
    | _perms("strongroom.dev", ["agents/finalizers"], ["update"])
    | _perms("", ["secrets"], ["get", "create", "update"])
    | CA_CONFIGMAPS
    | _perms("", ["events"], ["create"])
    | _perms("apiextensions.k8s.io", ["customresourcedefinitions"], ["list", "watch"]),
    # webhook.apps: GET the App; certs.sharing: GET/PUT its own configuration.
    "webhook": _perms("strongroom.dev", ["apps"], ["get"])
    | _perms(
        "admissionregistration.k8s.io",
        ["mutatingwebhookconfigurations"],
        ["get", "update"],
        "strongroom-webhook",
    ),
}
DELETE_PLAINTEXT = _perms("", ["secrets"], ["delete"])
"""operator.deletePlaintextSecrets: the Grant annotation strongroom.dev/delete-plaintext-secret."""
PEERING = _perms("kopf.dev", ["clusterkopfpeerings"], ["list", "watch"]) | _perms(
    "kopf.dev", ["clusterkopfpeerings"], ["get", "patch"], "strongroom"
)
"""Several operator replicas: kopf peering."""

CERT_MODES: dict[str, dict[str, Any]] = {
    "self-managed": {},
    "cert-manager": {"webhook": {"tls": {"mode": "cert-manager"}}},
}


def permissions(role: dict[str, Any]) -> set[Permission]:
    found: set[Permission] = set()
    for rule in role.get("rules") or []:
        for name in rule.get("resourceNames") or [""]:
            found |= {
                (group, resource, verb, name)
                for group in rule.get("apiGroups") or [""]
                for resource in rule.get("resources") or []
                for verb in rule.get("verbs") or []
            }
    return found


def granted(objects: list[rendering.Object], kind: str, component: str) -> set[Permission]:
    roles = [
        o
        for o in rendering.kinds(objects, kind)
        if o["metadata"]["labels"].get("app.kubernetes.io/component") == component
    ]
    return set().union(*(permissions(r) for r in roles)) if roles else set()


@pytest.mark.parametrize("component", sorted(CLUSTER))
def test_each_component_holds_exactly_what_its_code_uses(component: str) -> None:
    objects = rendering.render()
    assert granted(objects, "Role", component) == ROLE[component]
    assert granted(objects, "ClusterRole", component) == CLUSTER[component]


def test_deleting_plaintext_secrets_is_an_opt_in_right() -> None:
    objects = rendering.render({"operator": {"deletePlaintextSecrets": True}})
    assert granted(objects, "ClusterRole", "operator") == CLUSTER["operator"] | DELETE_PLAINTEXT


@pytest.mark.parametrize(
    "ca_bundle", [{"publishToAppNamespaces": False}, {"trustManager": {"enabled": True}}]
)
def test_configmap_rights_come_only_when_the_operator_publishes_the_ca(
    ca_bundle: dict[str, Any],
) -> None:
    values = {"controlPlane": {"tls": {"mode": "cert-manager"}, "caBundle": ca_bundle}}
    objects = rendering.render(values)
    assert granted(objects, "ClusterRole", "operator") == CLUSTER["operator"] - CA_CONFIGMAPS


def test_peering_rights_come_only_with_several_operator_replicas() -> None:
    objects = rendering.render({"operator": {"replicas": 2}})
    assert granted(objects, "ClusterRole", "operator") == CLUSTER["operator"] | PEERING


def test_webhook_holds_no_secret_or_configuration_rights_unless_it_manages_its_certificate() -> (
    None
):
    for mode, extra in (
        ("cert-manager", {}),
        ("secret", {"secretName": "s", "caBundle": "-----BEGIN CERTIFICATE-----\n"}),
    ):
        objects = rendering.render({"webhook": {"tls": {"mode": mode, **extra}}})
        assert granted(objects, "Role", "webhook") == set()
        assert not [
            o
            for o in objects
            if o["kind"] == "RoleBinding" and o["metadata"]["name"] == "strongroom-webhook"
        ]
        assert granted(objects, "ClusterRole", "webhook") == _perms(
            "strongroom.dev", ["apps"], ["get"]
        )


def test_control_plane_secrets_rights_stay_in_its_namespace() -> None:
    objects = rendering.render()
    for role in rendering.kinds(objects, "ClusterRole"):
        component = role["metadata"]["labels"]["app.kubernetes.io/component"]
        if component != "operator":  # the operator reads referenced Secrets in App namespaces
            assert not {p for p in permissions(role) if p[1] == "secrets"}, role["metadata"]["name"]
    for role in rendering.kinds(objects, "Role"):
        assert role["metadata"]["namespace"] == NS


def _subjects_with_secrets(objects: list[rendering.Object]) -> set[tuple[str, str, str]]:
    """Every subject bound to a role that grants any verb on Secrets."""
    secret_roles = {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
        for o in objects
        if o["kind"] in ("Role", "ClusterRole")
        and any(p[1] in ("secrets", "*") for p in permissions(o))
    }
    subjects = set()
    for binding in objects:
        if binding["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        ref = binding["roleRef"]
        namespace = binding["metadata"].get("namespace", "") if ref["kind"] == "Role" else ""
        if (ref["kind"], namespace, ref["name"]) in secret_roles:
            for subject in binding["subjects"]:
                subjects.add((subject["kind"], subject.get("namespace", ""), subject["name"]))
    return subjects


@pytest.mark.parametrize("mode", sorted(CERT_MODES))
def test_no_app_service_account_or_other_subject_gets_anything_on_secrets(mode: str) -> None:
    objects = rendering.render(CERT_MODES[mode])
    own = {
        ("ServiceAccount", NS, f"strongroom-{c}") for c in ("controlplane", "operator", "webhook")
    }
    assert _subjects_with_secrets(objects) <= own
    # Nothing user-facing (aggregated into view/edit/admin, i.e. bound to App teams and their
    # ServiceAccounts by RoleBindings the chart does not control) touches Secrets.
    for role in rendering.kinds(objects, "ClusterRole"):
        labels = role["metadata"]["labels"]
        if any(k.startswith("rbac.authorization.k8s.io/aggregate-to-") for k in labels):
            assert not [p for p in permissions(role) if p[1] in ("secrets", "*")]
    # No ServiceAccount the chart creates for people (the CLI) has any binding at all.
    bound = [s["name"] for b in objects if b["kind"].endswith("Binding") for s in b["subjects"]]
    assert "strongroom-cli" not in bound


def _aggregated(objects: list[rendering.Object], level: str) -> set[Permission]:
    label = f"rbac.authorization.k8s.io/aggregate-to-{level}"
    return set().union(
        *(
            permissions(r)
            for r in rendering.kinds(objects, "ClusterRole")
            if r["metadata"]["labels"].get(label) == "true"
        )
    )


def test_namespace_edit_writes_grants_and_agents_but_never_apps_or_providers() -> None:
    objects = rendering.render()
    view = _aggregated(objects, "view")
    edit = view | _aggregated(objects, "edit")  # Kubernetes aggregates view into edit
    admin = edit | _aggregated(objects, "admin")  # and edit into admin
    writes = {"create", "update", "patch", "delete", "deletecollection"}
    for kind in KINDS:
        assert {v for g, r, v, _ in view if r == kind} == {"get", "list", "watch"}, kind
    assert {(r, v) for g, r, v, _ in edit if v in writes} == {
        (r, v) for r in ("grants", "agents") for v in writes
    }
    assert {(r, v) for g, r, v, _ in admin if v in writes} == {
        (r, v) for r in KINDS for v in writes
    }
    # Status is the operator's: nobody in view/edit/admin writes it.
    assert not [p for p in admin if p[1].endswith("/status") and p[2] in writes]


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"operator": {"replicas": 3, "deletePlaintextSecrets": True}},
        {
            "webhook": {"tls": {"mode": "cert-manager"}},
            "controlPlane": {"tls": {"mode": "cert-manager"}},
        },
    ],
)
def test_shared_rbac_expectations_find_nothing(values: dict[str, Any]) -> None:
    """The rules tests/rbac_expectations.py states (from the control-plane issue)."""
    objects = rendering.render(values)
    assert rbac_expectations.violations(objects, control_plane_namespace=NS) == []


def test_shared_rbac_expectations_would_catch_a_secret_role_for_app_service_accounts() -> None:
    """The check itself bites on the chart's objects (not only on its own fixtures)."""
    objects = rendering.render()
    leaked = rendering.find(objects, "ClusterRoleBinding", "strongroom-controlplane")
    leaked["subjects"].append({"kind": "Group", "name": "system:serviceaccounts"})
    role = rendering.find(objects, "ClusterRole", "strongroom-controlplane")
    role["rules"].append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]})
    found = rbac_expectations.violations(objects, control_plane_namespace=NS)
    assert any("system:serviceaccounts" in v for v in found)
