"""Reading presets from the package data (``catalog/presets/<name>.yaml``).

Presets are parsed once and cached; callers get deep copies, so no caller can change what
the next one sees.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import re
from typing import Any

import yaml

from strongroom_core.catalog import errors

PRESET_ONLY_KEYS = ("source", "notes")
"""Keys that document a preset and are not Provider spec fields; ``apply_preset`` drops them."""

_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _directory() -> importlib.resources.abc.Traversable:
    return importlib.resources.files("strongroom_core.catalog").joinpath("presets")


@functools.cache
def _names() -> tuple[str, ...]:
    found = (
        entry.name.removesuffix(".yaml")
        for entry in _directory().iterdir()
        if entry.name.endswith(".yaml")
    )
    return tuple(sorted(name for name in found if _NAME.fullmatch(name)))


def preset_names() -> list[str]:
    """Names of every preset in the catalog, sorted."""
    return list(_names())


@functools.cache
def _load(name: str) -> dict[str, Any]:
    text = _directory().joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"catalog preset {name!r} is not a mapping")  # a packaging bug
    return data


def load_preset(name: str) -> dict[str, Any]:
    """The preset as written, including ``source`` and ``notes``; a fresh copy each call.
    Raises :class:`errors.UnknownPresetError` for a name not in the catalog."""
    if not isinstance(name, str) or name not in _names():
        raise errors.UnknownPresetError(str(name), _names())
    return copy.deepcopy(_load(name))
