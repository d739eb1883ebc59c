"""Render charts/strongroom offline with helm-python-sdk (Helm's own engine, no binary, no
cluster) and hand the tests plain objects.

``render(values)`` → every object the release would create: the templates' documents plus the
chart's ``crds/`` folder (Helm installs those first). ``NOTES.txt`` comes from ``notes(values)``.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import helm_python
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "strongroom"
RELEASE = "strongroom"
NAMESPACE = "strongroom-system"

Object = dict[str, Any]


@functools.cache
def chart() -> helm_python.Chart:
    """Loaded once per test session (a loaded chart is immutable)."""
    return helm_python.Chart.load(CHART)


def _templates(values: Mapping[str, Any] | None, namespace: str) -> dict[str, str]:
    return chart().render(
        dict(values) if values is not None else None,
        name=RELEASE,
        namespace=namespace,
        is_install=True,
    )


def documents(text: str) -> Iterator[Object]:
    for document in yaml.safe_load_all(text):
        if document:
            yield document


def render(values: Mapping[str, Any] | None = None, namespace: str = NAMESPACE) -> list[Object]:
    """Every object of the release, CRDs from ``crds/`` first, as Helm would apply them (a
    fresh copy each call; the same values render once per session)."""
    key = json.dumps(values, sort_keys=True) if values is not None else ""
    return copy.deepcopy(_render(key, namespace))


@functools.cache
def _render(key: str, namespace: str) -> list[Object]:
    values = json.loads(key) if key else None
    objects: list[Object] = []
    for crd in chart().crds:
        objects.extend(documents(crd["data"]))
    for name, text in sorted(_templates(values, namespace).items()):
        if name.endswith(".yaml"):
            objects.extend(documents(text))
    return objects


def notes(values: Mapping[str, Any] | None = None) -> str:
    rendered = _templates(values, NAMESPACE)
    return next(text for name, text in rendered.items() if name.endswith("NOTES.txt"))


def find(objects: list[Object], kind: str, name: str) -> Object:
    """The one object of ``kind`` named ``name``; fails listing what exists."""
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    if len(found) != 1:
        present = sorted(o["metadata"]["name"] for o in objects if o["kind"] == kind)
        raise AssertionError(f"{len(found)} {kind} named {name!r}; present: {present}")
    return found[0]


def kinds(objects: list[Object], kind: str) -> list[Object]:
    return [o for o in objects if o["kind"] == kind]


def pod_specs(objects: list[Object]) -> dict[str, Object]:
    """Pod templates of every workload, by ``Kind/name``."""
    return {
        f"{o['kind']}/{o['metadata']['name']}": o["spec"]["template"]["spec"]
        for o in objects
        if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")
    }


def env(container: Object) -> dict[str, Any]:
    """A container's env as name → value (or the valueFrom mapping)."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}
