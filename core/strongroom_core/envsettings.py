"""Settings dataclasses read from environment variables: ``<PREFIX><FIELD>`` (the field's name
in upper case) for every field, converted by the field's annotation, with errors that name the
variable, because in a pod the variable is what the user can see and change.

The sidecar (``STRONGROOM_SIDECAR_``) and the webhook (``STRONGROOM_WEBHOOK_``) are configured
this way; one reader keeps their conversions and their messages the same.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Settings = TypeVar("Settings", bound="DataclassInstance")


class SettingsError(ValueError):
    """A setting is wrong; the message names the setting (or variable) and what to do."""


def from_env(
    cls: type[Settings],
    prefix: str,
    environ: Mapping[str, str] | None = None,
    *,
    required: Iterable[str] = (),
) -> Settings:
    """Build ``cls`` from ``environ`` (default ``os.environ``). An empty variable counts as
    unset (the field keeps its default). Fields annotated ``bool``, ``int`` or ``float`` are
    converted; every other field takes the text as it is. A :class:`SettingsError` the dataclass
    raises as ``<field>: <what to do>`` is raised again naming the variable instead."""
    env = os.environ if environ is None else environ
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, object] = {}
    for name, field in fields.items():
        variable = prefix + name.upper()
        raw = env.get(variable)
        if raw is None or raw == "":
            continue
        try:
            values[name] = _convert(str(field.type), raw)
        except ValueError as e:
            raise SettingsError(f"{variable}: {e}") from None
    for name in required:
        if name not in values:
            raise SettingsError(f"{prefix}{name.upper()}: required, not set")
    try:
        return cls(**values)
    except SettingsError as e:
        name, _, rest = str(e).partition(": ")
        if name in fields:
            raise SettingsError(f"{prefix}{name.upper()}: {rest}") from None
        raise


def _convert(kind: str, raw: str) -> object:
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{raw!r} is not a boolean; use true or false")
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not an integer") from None
    if kind == "float":
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a number of seconds") from None
    return raw
