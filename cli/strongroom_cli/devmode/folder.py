"""Loading the dev folder: every resource that validates, and a readable problem for each one
that does not. One bad document never costs the others; a resource whose reference breaks
because another was left out is left out too, with the reason. ``v1`` Secret documents are
taken aside (:mod:`devmode.secrets`): they only resolve references like
``spec.oauth2.clientSecretRef``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from strongroom_cli.devmode import secrets as secret_documents
from strongroom_core.resources import errors, loading, models, validation


@dataclass(slots=True)
class FolderLoad:
    resources: list[models.Resource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """One line per resource left out, naming it and the field."""
    secrets: dict[secret_documents.SecretRef, dict[str, str]] = field(
        default_factory=dict, repr=False
    )
    """Decoded ``v1`` Secrets of the folder by ``(namespace, name)``."""

    def apps(self) -> list[models.App]:
        return [r for r in self.resources if isinstance(r, models.App)]


def load(
    folder: Path, *, previous: Mapping[models.Ref, models.Resource] | None = None
) -> FolderLoad:
    """Load ``folder``. With ``previous`` (the resources now served), a resource that changes an
    immutable field keeps its previous version and the change is reported."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder of resource YAML files")
    result = FolderLoad()
    candidates: list[models.Resource] = []
    scan = secret_documents.scan(folder)
    result.secrets = scan.secrets
    result.problems.extend(scan.problems)
    for item in loading.load_folder(folder, allow_loopback_http=True):
        if isinstance(item, loading.LoadFailure):
            if not secret_documents.is_secret_kind(item.kind):
                result.problems.append(str(item))
        else:
            candidates.append(_keep_immutable(item, previous or {}, result.problems))
    result.resources = _with_valid_references(candidates, result.problems)
    return result


def _keep_immutable(
    resource: models.Resource,
    previous: Mapping[models.Ref, models.Resource],
    problems: list[str],
) -> models.Resource:
    old = previous.get(resource.ref)
    if old is None:
        return resource
    found = validation.check_immutable(old, resource)
    if not found:
        return resource
    kind, namespace, name = resource.ref
    problems.append(
        str(errors.ValidationError(kind, namespace, name, tuple(found)))
        + " (still serving the previous version)"
    )
    return old


def _with_valid_references(
    candidates: Sequence[models.Resource], problems: list[str]
) -> list[models.Resource]:
    kept = list(candidates)
    while True:  # leaving one out can break another's reference: repeat until stable
        found = validation.check_references(kept)
        if not found:
            return kept
        problems.extend(str(error) for error in found.values())
        kept = [r for r in kept if r.ref not in found]
