"""Errors a user can hit in a custom resource: each names the field path and says what is wrong.

Messages never carry a field's value when the value could be a credential: the checks say what
shape was expected ("must be a string"), not what was found. Enum and reference errors may name
the offending word, because those fields hold names, never secrets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem at one field, e.g. ``FieldError("spec.oauth2.tokenURL", "required")``."""

    path: str
    """Dotted path from the document root with list indexes: ``spec.injections[1].name``."""
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ValidationError(ValueError):
    """A resource failed validation. ``str()`` reads
    ``Provider default/github: spec.oauth2.tokenURL: required; spec.allowedHosts[0]: ...``."""

    def __init__(self, kind: str, namespace: str, name: str, errors: tuple[FieldError, ...]):
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.errors = errors
        super().__init__(str(self))

    def __str__(self) -> str:
        who = f"{self.kind or 'resource'} {self.namespace}/{self.name or '<unnamed>'}"
        return f"{who}: " + "; ".join(str(error) for error in self.errors)

    def __reduce__(
        self,
    ) -> tuple[type[ValidationError], tuple[str, str, str, tuple[FieldError, ...]]]:
        return (type(self), (self.kind, self.namespace, self.name, self.errors))
