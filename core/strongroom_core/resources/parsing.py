"""Parse one custom resource document into a typed model, or raise one ``ValidationError`` that
lists every problem found, each naming its field.

Order matters for Providers: the catalog preset is merged first (``catalog.apply_preset``), and
the merged spec is then checked in full, as if the user had written every field. The CRD's
"unless a preset gives it" escapes exist only because the API server cannot see the catalog.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from strongroom_core import catalog, rules
from strongroom_core.resources import building, checking, errors, models, schemas, validation

_TOP_LEVEL = ("apiVersion", "kind", "metadata", "spec", "status")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def parse_resource(
    document: Mapping[str, Any],
    *,
    allow_loopback_http: bool = False,
    now: float | None = None,
) -> models.Resource:
    """A validated :data:`models.Resource` from a decoded YAML/JSON document.

    ``allow_loopback_http`` lets https-only URLs point at ``http://127.0.0.1``/``localhost``
    (dev mode and tests only). ``now`` (unix seconds) is the start of a ``ttl`` when the document
    has no ``metadata.creationTimestamp``; the current time by default.
    Raises :class:`errors.ValidationError` and nothing else, whatever the input.
    """
    if not isinstance(document, Mapping):
        raise errors.ValidationError(
            "", "default", "", (errors.FieldError("document", "must be a mapping"),)
        )
    found: list[errors.FieldError] = []
    kind = _check_envelope(document, found)
    meta = _metadata(document.get("metadata"), found)
    name, namespace = (meta.name, meta.namespace) if meta else _names(document)
    spec = document.get("spec")
    if spec is None:
        found.append(errors.FieldError("spec", "required"))
    elif not isinstance(spec, Mapping):
        found.append(errors.FieldError("spec", "must be an object"))
    elif kind is not None:
        options = validation.Options(allow_loopback_http=allow_loopback_http)
        spec = _checked_spec(kind, spec, found, options)
    if found or kind is None or meta is None or not isinstance(spec, Mapping):
        raise errors.ValidationError(
            kind or _word(document.get("kind")), namespace, name, tuple(found)
        )
    problems = _rule_problems(kind, spec)
    if problems:
        raise errors.ValidationError(kind, namespace, name, tuple(problems))
    if kind == "App":
        return building.app(meta, spec)
    if kind == "Provider":
        provider = building.provider(meta, spec)
        problems = validation.check_injections(provider)
        if problems:
            raise errors.ValidationError(kind, namespace, name, tuple(problems))
        return provider
    if kind == "Grant":
        return building.grant(meta, spec, now)
    return building.agent(meta, spec)


def _rule_problems(kind: str, spec: Mapping[str, Any]) -> list[errors.FieldError]:
    """What the schema cannot check about policy rules (zones, CIDRs, patterns)."""
    if kind == "App":
        return rules.check_app_rules(spec.get("policy", {}).get("rules"))
    if kind == "Grant":
        return rules.check_restrictions(spec.get("restrictions"))
    return []


def _check_envelope(document: Mapping[str, Any], found: list[errors.FieldError]) -> str | None:
    found.extend(
        errors.FieldError(str(key), "unknown field (known fields: " + ", ".join(_TOP_LEVEL) + ")")
        for key in document
        if key not in _TOP_LEVEL
    )
    api_version = document.get("apiVersion")
    if api_version is None:
        found.append(errors.FieldError("apiVersion", "required"))
    elif api_version != models.API_VERSION:
        found.append(errors.FieldError("apiVersion", f"must be {models.API_VERSION}"))
    kind = document.get("kind")
    if kind is None:
        found.append(errors.FieldError("kind", "required"))
    elif kind not in models.KINDS:
        found.append(errors.FieldError("kind", "must be one of: " + ", ".join(models.KINDS)))
    else:
        return str(kind)
    return None


def _checked_spec(
    kind: str,
    spec: Mapping[str, Any],
    found: list[errors.FieldError],
    options: validation.Options,
) -> Any:
    findings = checking.Findings()
    result = _checked_spec_findings(kind, spec, findings, options)
    found.extend(findings.errors)
    return result


def _checked_spec_findings(
    kind: str,
    spec: Mapping[str, Any],
    found: checking.Findings,
    options: validation.Options,
) -> Any:
    preset = spec.get("preset")
    if kind != "Provider" or not isinstance(preset, str):
        return checking.check(spec, schemas.spec_schema(kind), "spec", found, options)
    try:
        merged = catalog.apply_preset(preset, spec)
    except catalog.UnknownPresetError as error:
        found.add("spec.preset", str(error))
        # Still report the rest, with the CRD's preset escapes in force.
        return checking.check(spec, schemas.spec_schema(kind), "spec", found, options)
    merged.pop("preset", None)
    result = checking.check(merged, schemas.spec_schema(kind), "spec", found, options)
    if isinstance(result, dict):
        result["preset"] = preset
    return result


def _metadata(raw: Any, found: list[errors.FieldError]) -> models.ObjectMeta | None:
    if raw is None:
        found.append(errors.FieldError("metadata", "required"))
        return None
    if not isinstance(raw, Mapping):
        found.append(errors.FieldError("metadata", "must be an object"))
        return None
    before = len(found)
    name = _string(raw, "name", found, required=True)
    if name and (len(name) > 253 or not _NAME.match(name)):
        found.append(
            errors.FieldError(
                "metadata.name",
                "must be lowercase letters, digits, '-' and '.', starting and ending with a "
                "letter or digit (at most 253 characters)",
            )
        )
    namespace = _string(raw, "namespace", found) or "default"
    if len(namespace) > 63 or not _NAMESPACE.match(namespace):
        found.append(
            errors.FieldError(
                "metadata.namespace",
                "must be lowercase letters, digits and '-', starting and ending with a letter "
                "or digit (at most 63 characters)",
            )
        )
    generation = raw.get("generation", 0)
    if isinstance(generation, bool) or not isinstance(generation, int):
        found.append(errors.FieldError("metadata.generation", "must be an integer"))
    meta = models.ObjectMeta(
        name=name or "",
        namespace=namespace,
        uid=_string(raw, "uid", found) or "",
        generation=generation if isinstance(generation, int) else 0,
        resource_version=_string(raw, "resourceVersion", found) or "",
        labels=_string_map(raw, "labels", found),
        annotations=_string_map(raw, "annotations", found),
        creation_timestamp=_timestamp(raw.get("creationTimestamp"), found),
    )
    return meta if len(found) == before else None


def _string(
    raw: Mapping[str, Any], key: str, found: list[errors.FieldError], *, required: bool = False
) -> str | None:
    value = raw.get(key)
    if value is None:
        if required:
            found.append(errors.FieldError(f"metadata.{key}", "required"))
        return None
    if not isinstance(value, str):
        found.append(errors.FieldError(f"metadata.{key}", "must be a string"))
        return None
    return value


def _string_map(
    raw: Mapping[str, Any], key: str, found: list[errors.FieldError]
) -> Mapping[str, str]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        found.append(errors.FieldError(f"metadata.{key}", "must map strings to strings"))
        return {}
    return dict(value)


def _timestamp(value: Any, found: list[errors.FieldError]) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.timestamp()
    moment = checking.parse_date_time(value) if isinstance(value, str) else None
    if moment is None:
        found.append(
            errors.FieldError("metadata.creationTimestamp", "must be an RFC 3339 date-time")
        )
        return None
    return moment.timestamp()


def _names(document: Mapping[str, Any]) -> tuple[str, str]:
    """Best-effort name and namespace for the message of a document whose metadata failed."""
    meta = document.get("metadata")
    if not isinstance(meta, Mapping):
        return "", "default"
    return _word(meta.get("name")), _word(meta.get("namespace")) or "default"


def _word(value: Any) -> str:
    return value[:253] if isinstance(value, str) else ""
