"""What Strongroom's RBAC objects may grant, as a check the chart tests call on the rendered
manifests (``violations(objects)`` → a list of readable problems; empty is good).

The rules (DESIGN.md, "Components and how a request flows"):

1. **Nothing on Secrets for anyone but Strongroom's own components.** App ServiceAccounts (and
   every other subject: users, groups such as ``system:serviceaccounts`` or
   ``system:authenticated``, aggregated user roles) get no verb on ``secrets``, directly or by a
   wildcard. RBAC cannot limit a watch to one App's Secrets, and the app container holds the
   same ServiceAccount token as the sidecar.
2. **Strongroom's components get only what they use**, each listed below per component (the
   ``app.kubernetes.io/component`` label of the Role/ClusterRole names it). No wildcard verbs,
   resources or API groups anywhere.
3. **Secrets rights of the control plane stay in its own namespace** (a Role there, never a
   ClusterRole), where the sealed records and the root keyring live.

Usage in a chart test::

    from tests import rbac_expectations
    assert rbac_expectations.violations(rendered_objects) == []
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Permission = tuple[str, str, str]
"""(apiGroup, resource, verb)."""

COMPONENT_LABEL = "app.kubernetes.io/component"
RBAC_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")


def _perms(group: str, resource: str, *verbs: str) -> set[Permission]:
    return {(group, resource, verb) for verb in verbs}


RECORD_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete")

NAMESPACED: dict[str, set[Permission]] = {
    # In the control plane's namespace only (a Role there).
    "controlplane": _perms("", "secrets", *RECORD_VERBS),
    "operator": _perms("", "secrets", *RECORD_VERBS)
    | _perms("coordination.k8s.io", "leases", "get", "create", "update"),
    "webhook": _perms("", "secrets", "get", "create", "update", "patch"),
}
"""Per component: what it may do in the control plane's namespace."""

CLUSTER: dict[str, set[Permission]] = {
    # TokenReview of sidecar tokens; the token's pod and its App (tokenreview.py).
    "controlplane": _perms("authentication.k8s.io", "tokenreviews", "create")
    | _perms("", "pods", "get")
    | _perms("strongroom.dev", "apps", "get"),
    # Reconcile every kind, status, finalizers; read client secrets and Grants' secretRefs
    # (and delete a plaintext Secret when asked); Events; kopf's peering and CRD discovery.
    "operator": {
        p
        for kind in ("apps", "providers", "grants", "agents")
        for p in _perms("strongroom.dev", kind, "get", "list", "watch", "patch", "update")
        | _perms("strongroom.dev", f"{kind}/status", "get", "patch", "update")
    }
    # Agent key Secrets in App namespaces (kopfhandlers.kubeio), owned by their Agent, which
    # needs agents/finalizers for blockOwnerDeletion.
    | _perms("", "secrets", "get", "delete", "create", "update")
    | _perms("strongroom.dev", "agents/finalizers", "update")
    # The control plane's CA as ConfigMap strongroom-ca in every namespace with an App
    # (kopfhandlers.cabundles): created, kept current, deleted with the namespace's last App.
    | _perms("", "configmaps", "get", "create", "update", "delete")
    | _perms("", "events", "create", "patch")
    | _perms("events.k8s.io", "events", "create", "patch")
    | _perms("", "namespaces", "get", "list", "watch")
    | _perms("apiextensions.k8s.io", "customresourcedefinitions", "get", "list", "watch")
    | _perms("kopf.dev", "clusterkopfpeerings", "get", "list", "watch", "patch")
    | _perms("kopf.dev", "kopfpeerings", "get", "list", "watch", "patch"),
    # The webhook checks Apps and patches its own configuration's caBundle.
    "webhook": _perms("strongroom.dev", "apps", "get", "list", "watch")
    | _perms(
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        "get",
        "list",
        "watch",
        "patch",
        "update",  # certs.sharing replaces the configuration (PUT) to set the caBundle
    ),
}
"""Per component: what it may do cluster-wide."""


def _expand(rule: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    return (
        list(rule.get("apiGroups") or [""]),
        list(rule.get("resources") or []),
        list(rule.get("verbs") or []),
    )


def _touches_secrets(rule: Mapping[str, Any]) -> bool:
    groups, resources, verbs = _expand(rule)
    return (
        bool(verbs)
        and ("" in groups or "*" in groups)
        and ("secrets" in resources or "*" in resources)
    )


def violations(
    objects: Iterable[Mapping[str, Any]],
    *,
    control_plane_namespace: str = "strongroom-system",
    namespaced: Mapping[str, set[Permission]] | None = None,
    cluster: Mapping[str, set[Permission]] | None = None,
) -> list[str]:
    """Every way ``objects`` (rendered manifests) break the rules above."""
    namespaced = NAMESPACED if namespaced is None else namespaced
    cluster = CLUSTER if cluster is None else cluster
    found: list[str] = []
    roles: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for obj in objects:
        if obj.get("kind") in RBAC_KINDS:
            meta = obj.get("metadata") or {}
            roles[(obj["kind"], meta.get("namespace", ""), meta.get("name", ""))] = obj
    for (kind, namespace, name), role in roles.items():
        where = f"{kind} {namespace + '/' if namespace else ''}{name}"
        meta = role.get("metadata") or {}
        component = (meta.get("labels") or {}).get(COMPONENT_LABEL, "")
        aggregated = any(
            key.startswith("rbac.authorization.k8s.io/aggregate-to-")
            for key in (meta.get("labels") or {})
        )
        for index, rule in enumerate(role.get("rules") or []):
            groups, resources, verbs = _expand(rule)
            if "*" in groups or "*" in resources or "*" in verbs:
                found.append(f"{where} rules[{index}]: a wildcard; list what is used")
            if _touches_secrets(rule) and (aggregated or component not in namespaced):
                found.append(f"{where} rules[{index}]: Secrets for a non-Strongroom subject")
                continue
            if component not in namespaced and component not in cluster:
                continue  # user-facing roles: checked for Secrets and wildcards only
            allowed = (
                namespaced.get(component, set())
                if kind == "Role"
                else cluster.get(component, set())
            )
            if kind == "Role" and namespace != control_plane_namespace:
                found.append(f"{where}: a {component} Role outside {control_plane_namespace}")
            for group in groups:
                for resource in resources:
                    for verb in verbs:
                        if (group, resource, verb) not in allowed:
                            found.append(
                                f"{where} rules[{index}]: {component} does not use"
                                f" {verb} {resource}{'.' + group if group else ''}"
                            )
    found += _binding_violations(objects, roles, namespaced, control_plane_namespace)
    return found


def _binding_violations(
    objects: Iterable[Mapping[str, Any]],
    roles: Mapping[tuple[str, str, str], Mapping[str, Any]],
    namespaced: Mapping[str, set[Permission]],
    control_plane_namespace: str,
) -> list[str]:
    """A role that touches Secrets may be bound only to ServiceAccounts of its component in
    the control plane's namespace (never to users, groups or other ServiceAccounts)."""
    found: list[str] = []
    for obj in objects:
        if obj.get("kind") not in BINDING_KINDS:
            continue
        meta = obj.get("metadata") or {}
        ref = obj.get("roleRef") or {}
        namespace = meta.get("namespace", "") if ref.get("kind") == "Role" else ""
        role = roles.get((str(ref.get("kind")), namespace, str(ref.get("name"))))
        if role is None or not any(_touches_secrets(r) for r in role.get("rules") or []):
            continue
        component = ((role.get("metadata") or {}).get("labels") or {}).get(COMPONENT_LABEL, "")
        for subject in obj.get("subjects") or []:
            if (
                subject.get("kind") != "ServiceAccount"
                or component not in namespaced
                or subject.get("namespace") != control_plane_namespace
            ):
                found.append(
                    f"{obj['kind']} {meta.get('name')}: gives Secrets rights to"
                    f" {subject.get('kind')} {subject.get('namespace', '')}/{subject.get('name')}"
                )
    return found
