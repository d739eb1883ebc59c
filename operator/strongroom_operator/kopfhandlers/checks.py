"""Parse a resource's body and check its references against the indexes, before any reconcile.

Two ways to fail, handled differently by the handlers:

- :class:`Invalid` — the resource itself is wrong (a field, a reference to something of another
  App): status ``Invalid`` naming the field, a Warning Event, no retry until it is edited;
- :class:`Waiting` — it names something that does not exist (yet): status ``Pending`` saying
  what is missing, and kopf retries with a growing delay (applying an App after its Grants is
  normal with ``kubectl apply -f dir/``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from strongroom_core.resources import errors, models, validation
from strongroom_operator.kopfhandlers import indexes
from strongroom_operator.reconcile import outcomes

_R = TypeVar("_R", bound=models.Resource)


class Problem(Exception):
    def __init__(self, outcome: outcomes.Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


class Invalid(Problem):
    pass


class Waiting(Problem):
    pass


def parsed(body: Mapping[str, Any], kind: type[_R], *, allow_loopback_http: bool) -> _R:
    try:
        resource = indexes.parse(body, allow_loopback_http=allow_loopback_http)
    except errors.ValidationError as e:
        raise Invalid(invalid_outcome(e)) from None
    if not isinstance(resource, kind):  # pragma: no cover - kopf routes by kind
        raise Invalid(outcomes.invalid("WrongKind", f"kind: expected {kind.kind}"))
    return resource


def invalid_outcome(error: errors.ValidationError) -> outcomes.Outcome:
    listed = "; ".join(str(problem) for problem in error.errors)
    return outcomes.invalid("SpecInvalid", f"{listed} (fix the field and apply again)")


def referenced(view: indexes.View, resource: models.Resource) -> None:
    """Raise :class:`Waiting` or :class:`Invalid` unless every reference of ``resource``
    resolves to a valid resource of the same App."""
    if isinstance(resource, models.App):
        return
    namespace, app = resource.meta.namespace, resource.app_ref
    if view.app(namespace, app) is None:
        raise Waiting(
            outcomes.pending(
                "AppNotFound",
                f'spec.appRef: App "{app}" not found (or invalid) in namespace "{namespace}"; '
                "create or fix it (retrying)",
            )
        )
    if isinstance(resource, models.Grant):
        name = resource.provider_ref
        known = {p.meta.name for p in view.providers(namespace, app)}
        if name not in known:
            raise Waiting(
                outcomes.pending(
                    "ProviderNotFound",
                    f'spec.providerRef: Provider "{name}" of App "{app}" not found (or invalid) '
                    f'in namespace "{namespace}"; create or fix it (retrying)',
                )
            )
    together = [r for r in view.resources_of(namespace, app) if r.ref != resource.ref]
    found = validation.check_references([*together, resource]).get(resource.ref)
    if found is None:
        return
    waiting = [e for e in found.errors if "not found" in e.message]
    if waiting:
        listed = "; ".join(str(problem) for problem in waiting)
        raise Waiting(outcomes.pending("ReferenceNotFound", f"{listed} (retrying)"))
    raise Invalid(invalid_outcome(found))
