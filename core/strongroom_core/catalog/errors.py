"""Errors of the provider catalog."""

from __future__ import annotations

from collections.abc import Sequence


class UnknownPresetError(ValueError):
    """``spec.preset`` names no preset in the catalog. The message lists the known presets so
    the user can pick one."""

    def __init__(self, name: str, known_names: Sequence[str]):
        self.name = name
        self.known_names = list(known_names)
        super().__init__(
            f"unknown preset {name!r}; known presets: {', '.join(self.known_names) or '(none)'}"
        )
