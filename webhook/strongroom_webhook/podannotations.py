"""The injection settings a pod asks for through its annotations, one accessor each with its
default (the keys and defaults live in ``strongroom_core.podspec``). Errors name the annotation
and say what to write instead."""

from __future__ import annotations

import dataclasses
import decimal
import re

from strongroom_core import podspec
from strongroom_webhook import quantities

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class AnnotationError(ValueError):
    """An annotation's value cannot be used; the message names the annotation."""


@dataclasses.dataclass(frozen=True, slots=True)
class Resources:
    requests: dict[str, str]
    limits: dict[str, str]

    def as_spec(self) -> dict[str, dict[str, str]]:
        spec: dict[str, dict[str, str]] = {}
        if self.requests:
            spec["requests"] = dict(self.requests)
        if self.limits:
            spec["limits"] = dict(self.limits)
        return spec


def inject_requested(annotations: dict[str, str]) -> bool:
    """``strongroom.dev/inject``: ``"true"`` or ``"false"`` (any case); default false."""
    raw = annotations.get(podspec.INJECT_ANNOTATION)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ("true", "false"):
        return value == "true"
    raise AnnotationError(
        f'{podspec.INJECT_ANNOTATION}: {raw[:40]!r} is not "true" or "false"; write "true" '
        "to inject the Strongroom sidecar"
    )


def app(annotations: dict[str, str]) -> str:
    """``strongroom.dev/app``: required when injecting; an App name in the pod's namespace."""
    raw = annotations.get(podspec.APP_ANNOTATION, "").strip()
    if not raw:
        raise AnnotationError(
            f"{podspec.APP_ANNOTATION}: missing; name the App (in this namespace) whose "
            "credentials the pod uses"
        )
    if len(raw) > 253 or not _DNS_LABEL.match(raw):
        raise AnnotationError(
            f"{podspec.APP_ANNOTATION}: {raw[:60]!r} is not a valid App name (lower-case DNS name)"
        )
    return raw


def resources(annotations: dict[str, str]) -> Resources:
    """The sidecar's requests and limits: defaults, each overridable by its annotation; an
    empty value removes that entry. A request above its limit is refused."""
    sections: dict[str, dict[str, str]] = {"requests": {}, "limits": {}}
    values: dict[tuple[str, str], tuple[str, decimal.Decimal]] = {}
    for key, (section, resource, default) in podspec.SIDECAR_RESOURCE_ANNOTATIONS.items():
        raw = annotations.get(key, default).strip()
        if not raw:
            continue
        try:
            amount = quantities.parse(raw)
        except ValueError as e:
            raise AnnotationError(f"{key}: {e}") from None
        sections[section][resource] = raw
        values[(section, resource)] = (key, amount)
    for resource in ("cpu", "memory"):
        request, limit = values.get(("requests", resource)), values.get(("limits", resource))
        if request and limit and request[1] > limit[1]:
            raise AnnotationError(
                f"{request[0]}: {sections['requests'][resource]} is more than the limit "
                f"{sections['limits'][resource]} ({limit[0]}); raise the limit or lower the request"
            )
    return Resources(requests=sections["requests"], limits=sections["limits"])
