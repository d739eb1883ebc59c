"""Per-call narrowing asked by the caller in the ``Strongroom-Narrow`` header, e.g.
``{"methods": ["GET"], "paths": ["/repos/acme/**"], "hosts": ["api.github.com"]}``.

It is checked like one more rule after the App's and the Grant's, so it can only narrow: a call
outside it is denied with the reason, and nothing in it can allow what a rule denies. Parsed
once per distinct header value (callers repeat theirs), so the hot path pays a cache lookup.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from strongroom_core import targets
from strongroom_core.rules import paths, specs

HEADER = "Strongroom-Narrow"
MAX_LENGTH = 4096
_KEYS = ("methods", "paths", "hosts")


class NarrowingError(ValueError):
    """The header is not a narrowing; the message names the header and the key at fault."""


@dataclass(frozen=True, slots=True)
class Narrowing:
    methods: frozenset[str] | None
    method_text: str
    paths: tuple[paths.PathPattern, ...] | None
    path_text: str
    hosts: targets.AllowedHosts | None
    host_text: str


def parse(value: str) -> Narrowing:
    """The narrowing in a ``Strongroom-Narrow`` header value; raises :class:`NarrowingError`."""
    if len(value) > MAX_LENGTH:
        raise NarrowingError(f"{HEADER} is longer than {MAX_LENGTH} characters")
    return _parse(value)


@functools.lru_cache(maxsize=1024)
def _parse(value: str) -> Narrowing:
    try:
        raw = json.loads(value)
    except ValueError:
        raise NarrowingError(
            f'{HEADER} must be a JSON object such as {{"methods": ["GET"], "paths": ["/v1/**"]}}'
        ) from None
    if not isinstance(raw, dict) or not raw:
        raise NarrowingError(f"{HEADER} must be a non-empty JSON object")
    for key in raw:
        if key not in _KEYS:
            raise NarrowingError(
                f"{HEADER}: unknown key {str(key)[:40]!r} (known keys: " + ", ".join(_KEYS) + ")"
            )
    spec, problems = specs.read(raw, HEADER, selectors=False)
    if problems:
        raise NarrowingError(str(problems[0]))
    hosts = None
    if spec.hosts is not None:
        hosts = targets.AllowedHosts.compile(spec.hosts)
    return Narrowing(
        methods=None if spec.methods is None else frozenset(spec.methods),
        method_text=", ".join(spec.methods or ()),
        paths=spec.paths,
        path_text=", ".join(p.text for p in spec.paths or ()),
        hosts=hosts,
        host_text=", ".join(spec.hosts or ()),
    )
