"""The CRD schemas, read from the package's copy of ``crds/``.

Core checks documents against the very schemas the API server uses, so the two cannot drift
apart; ``tests/core/resources`` asserts the package copy equals ``crds/`` byte for byte (refresh it
with ``cp crds/*.yaml core/strongroom_core/resources/crds/``).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any, cast

import yaml

PLURALS: dict[str, str] = {
    "App": "apps",
    "Provider": "providers",
    "Grant": "grants",
    "Agent": "agents",
}


def crd_file_name(kind: str) -> str:
    return f"{PLURALS[kind]}.strongroom.dev.yaml"


@functools.cache
def crd(kind: str) -> dict[str, Any]:
    """The whole CustomResourceDefinition of ``kind`` (cached; treat it as read-only)."""
    text = resources.files(__package__).joinpath("crds", crd_file_name(kind)).read_text("utf-8")
    return cast(dict[str, Any], yaml.safe_load(text))


def root_schema(kind: str) -> dict[str, Any]:
    """The ``openAPIV3Schema`` of the served version."""
    (version,) = crd(kind)["spec"]["versions"]
    return cast(dict[str, Any], version["schema"]["openAPIV3Schema"])


def spec_schema(kind: str) -> dict[str, Any]:
    return cast(dict[str, Any], root_schema(kind)["properties"]["spec"])
