"""Filling a Provider spec from a preset.

Deep merge with the user's spec on top: mappings merge key by key, anything else the user set
(strings, numbers, booleans, lists) replaces the preset's value whole. Lists replace rather
than append because a list is a decision (``allowedHosts``, ``injections``, ``defaultScopes``):
a user narrowing a preset's hosts must not end up with the union. An explicit ``null`` in the
user's spec removes the preset's value (for example ``revocationURL: null``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from strongroom_core.catalog import loading


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A new mapping: ``base`` with ``override`` on top (see the module docstring)."""
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def apply_preset(preset_name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The Provider ``spec`` with every field it leaves unset filled from the preset.

    Returns a new dict (neither argument is changed) without the preset's documentation keys
    (``source``, ``notes``); the user's own keys, ``preset`` included, are kept. Raises
    :class:`errors.UnknownPresetError` (a ``ValueError`` listing the known presets).
    """
    preset = loading.load_preset(preset_name)
    for key in loading.PRESET_ONLY_KEYS:
        preset.pop(key, None)
    return deep_merge(preset, spec)
