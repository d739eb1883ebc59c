"""The resources the emulator serves, and the discovery documents that describe them.

Built-in kinds are the ones Strongroom and kopf touch (Secrets, Pods, Events, Namespaces,
ServiceAccounts, Leases, CRDs, TokenReviews); creating a CustomResourceDefinition adds its kinds,
so applying ``crds/`` makes the strongroom.dev resources appear exactly as in a cluster.
"""

from __future__ import annotations

import dataclasses
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclasses.dataclass(frozen=True)
class ResourceDef:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    status_subresource: bool = False
    custom: bool = False
    """Custom resources drop ``status`` on create (the status subresource owns it)."""
    stored: bool = True
    """False for review kinds (TokenReview): created, answered, never kept."""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.group}/{self.plural}"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    def verbs(self) -> list[str]:
        return ["create"] if not self.stored else list(ALL_VERBS)

    def discovery(self) -> list[dict[str, Any]]:
        main = {
            "name": self.plural,
            "singularName": self.singular or self.kind.lower(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": self.verbs(),
            "shortNames": list(self.short_names),
            "categories": list(self.categories),
        }
        entries = [main]
        if self.status_subresource:
            entries.append(
                {
                    "name": f"{self.plural}/status",
                    "singularName": "",
                    "namespaced": self.namespaced,
                    "kind": self.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        return entries


def _core(plural: str, kind: str, *, namespaced: bool = True, status: bool = False) -> ResourceDef:
    return ResourceDef("", "v1", plural, kind, namespaced, status_subresource=status)


BUILTIN: tuple[ResourceDef, ...] = (
    _core("namespaces", "Namespace", namespaced=False, status=True),
    _core("secrets", "Secret"),
    _core("configmaps", "ConfigMap"),
    _core("pods", "Pod", status=True),
    _core("serviceaccounts", "ServiceAccount"),
    _core("events", "Event"),
    ResourceDef("events.k8s.io", "v1", "events", "Event", True),
    ResourceDef("coordination.k8s.io", "v1", "leases", "Lease", True),
    ResourceDef(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        status_subresource=True,
        short_names=("crd", "crds"),
    ),
    ResourceDef("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", False, stored=False),
)


def from_crd(crd: dict[str, Any]) -> list[ResourceDef]:
    """The served versions of a CustomResourceDefinition body."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    defs = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        defs.append(
            ResourceDef(
                group=str(spec["group"]),
                version=str(version["name"]),
                plural=str(names["plural"]),
                kind=str(names["kind"]),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                singular=str(names.get("singular", "")),
                status_subresource="status" in (version.get("subresources") or {}),
                custom=True,
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
            )
        )
    return defs


class Registry:
    """Resources by group/version/plural, in the order they were added."""

    def __init__(self) -> None:
        self._defs: dict[tuple[str, str, str], ResourceDef] = {}

    def add(self, resource: ResourceDef) -> None:
        self._defs[(resource.group, resource.version, resource.plural)] = resource

    def remove_crd(self, crd: dict[str, Any]) -> None:
        for resource in from_crd(crd):
            self._defs.pop((resource.group, resource.version, resource.plural), None)

    def find(self, group: str, version: str, plural: str) -> ResourceDef | None:
        return self._defs.get((group, version, plural))

    def all(self) -> list[ResourceDef]:
        return list(self._defs.values())

    def group_versions(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for resource in self._defs.values():
            versions = grouped.setdefault(resource.group, [])
            if resource.version not in versions:
                versions.append(resource.version)
        return grouped

    # --- discovery documents ----------------------------------------------------------------

    def api_versions(self) -> dict[str, Any]:
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}

    def api_group(self, group: str) -> dict[str, Any] | None:
        versions = self.group_versions().get(group)
        if not versions or not group:
            return None
        listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": listed, "preferredVersion": listed[0]}

    def api_group_list(self) -> dict[str, Any]:
        groups = [self.api_group(group) for group in self.group_versions() if group]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [g for g in groups if g]}

    def resource_list(self, group: str, version: str) -> dict[str, Any] | None:
        served = [r for r in self._defs.values() if (r.group, r.version) == (group, version)]
        if not served:
            return None
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": served[0].group_version,
            "resources": [entry for r in served for entry in r.discovery()],
        }
