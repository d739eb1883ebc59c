"""kopf indexes of the four kinds, so a handler sees an App's Providers, Grants and Agents
without an API call: parsed models keyed by ``(namespace, app)``.

A resource that fails to parse, or is being deleted, is absent from its index (the index
function returns ``{}``: kopf keeps an old value when it returns ``None``). Compiling a policy
therefore only ever sees valid, living resources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import kopf

from strongroom_core.resources import errors, models, parsing

APPS, PROVIDERS, GRANTS, AGENTS = (
    "strongroom_apps",
    "strongroom_providers",
    "strongroom_grants",
    "strongroom_agents",
)
"""Index ids; kopf passes each index to every handler as a keyword argument of that name."""

AppKey = tuple[str, str]
IndexFunction = Callable[..., dict[AppKey, models.Resource]]
_R = TypeVar("_R", bound=models.Resource)


def parse(body: Mapping[str, Any], *, allow_loopback_http: bool) -> models.Resource:
    """``errors.ValidationError`` naming every bad field; nothing else."""
    document = {k: body[k] for k in ("apiVersion", "kind", "metadata", "spec") if k in body}
    return parsing.parse_resource(document, allow_loopback_http=allow_loopback_http)


def index_function(*, allow_loopback_http: bool) -> IndexFunction:
    def index(body: kopf.Body, **_: Any) -> dict[AppKey, models.Resource]:
        if body.get("metadata", {}).get("deletionTimestamp"):
            return {}
        try:
            resource = parse(body, allow_loopback_http=allow_loopback_http)
        except errors.ValidationError:
            return {}
        if isinstance(resource, models.App):
            return {resource.key: resource}
        app_ref: str = resource.app_ref
        return {(resource.meta.namespace, app_ref): resource}

    return index


class View:
    """The four indexes as a handler received them (live: kopf keeps them current)."""

    def __init__(self, kwargs: Mapping[str, Any]) -> None:
        self._apps: kopf.Index[AppKey, models.Resource] = kwargs[APPS]
        self._providers: kopf.Index[AppKey, models.Resource] = kwargs[PROVIDERS]
        self._grants: kopf.Index[AppKey, models.Resource] = kwargs[GRANTS]
        self._agents: kopf.Index[AppKey, models.Resource] = kwargs[AGENTS]

    def app(self, namespace: str, name: str) -> models.App | None:
        found = _of(self._apps, (namespace, name), models.App)
        return found[0] if found else None

    def providers(self, namespace: str, app: str) -> list[models.Provider]:
        return _of(self._providers, (namespace, app), models.Provider)

    def grants(self, namespace: str, app: str) -> list[models.Grant]:
        return _of(self._grants, (namespace, app), models.Grant)

    def agents(self, namespace: str, app: str) -> list[models.Agent]:
        return _of(self._agents, (namespace, app), models.Agent)

    def provider(self, namespace: str, app: str, name: str) -> models.Provider | None:
        return next((p for p in self.providers(namespace, app) if p.meta.name == name), None)

    def resources_of(self, namespace: str, app: str) -> list[models.Resource]:
        """The App and everything naming it, for ``validation.check_references``."""
        found: list[models.Resource] = []
        application = self.app(namespace, app)
        if application is not None:
            found.append(application)
        found.extend(self.providers(namespace, app))
        found.extend(self.grants(namespace, app))
        found.extend(self.agents(namespace, app))
        return found


def _of(index: kopf.Index[AppKey, models.Resource], key: AppKey, kind: type[_R]) -> list[_R]:
    if key not in index:
        return []
    return _unique(r for r in index[key] if isinstance(r, kind))


def _unique(items: Iterable[_R]) -> list[_R]:
    """One per name (the newest wins), sorted by name."""
    by_name: dict[str, _R] = {}
    for item in items:
        by_name[item.meta.name] = item
    return [by_name[name] for name in sorted(by_name)]
