"""Load custom resources from YAML text and folders (``strongroom dev``, the CLI, tests).

A file may hold several documents. Each is split off on its own ``---`` line and parsed alone,
so a YAML syntax error or an invalid resource costs only that document: the result holds one
entry per non-empty document, in order, either the parsed resource or a :class:`LoadFailure`.
Timestamps stay strings (as the API server's JSON would have them) rather than becoming
``datetime`` objects, so ``expiresAt: 2030-01-01T00:00:00Z`` needs no quotes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from strongroom_core.resources import errors, models, parsing

_SEPARATOR = re.compile(r"^---(\s.*)?$")


@dataclass(frozen=True, slots=True)
class LoadFailure:
    """A document that did not load. ``index`` counts documents in the source from 0; ``kind``
    and ``name`` are what the document said, when it could be read that far."""

    source: str
    index: int
    kind: str
    name: str
    error: str
    line: int | None = None
    """1-based line in the source where the document (or the YAML error) is."""

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        what = f" ({self.kind} {self.name})" if self.kind or self.name else ""
        return f"{where}: document {self.index}{what}: {self.error}"


Loaded = models.App | models.Provider | models.Grant | models.Agent | LoadFailure


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: RFC 3339 values stay strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_documents(
    text: str,
    source: str,
    *,
    allow_loopback_http: bool = False,
    now: float | None = None,
) -> list[Loaded]:
    """Every non-empty document of ``text`` parsed with ``parsing.parse_resource``; ``source``
    (a file name) only labels failures."""
    loaded: list[Loaded] = []
    index = 0
    for first_line, chunk in _split(text):
        try:
            document = yaml.load(chunk, Loader=_Loader)  # noqa: S506 -- _Loader is a SafeLoader
        except yaml.YAMLError as error:
            loaded.append(_yaml_failure(source, index, first_line, chunk, error))
            index += 1
            continue
        if document is None:
            continue
        loaded.append(_parse(document, source, index, first_line, allow_loopback_http, now))
        index += 1
    return loaded


def load_folder(
    path: str | Path, *, allow_loopback_http: bool = False, now: float | None = None
) -> list[Loaded]:
    """Load every ``*.yaml`` and ``*.yml`` file directly in ``path``, in sorted file-name order.
    An unreadable file becomes one :class:`LoadFailure`."""
    folder = Path(path)
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    loaded: list[Loaded] = []
    for file in files:
        try:
            text = file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            loaded.append(LoadFailure(str(file), 0, "", "", f"cannot read: {error}"))
            continue
        loaded.extend(
            load_documents(text, str(file), allow_loopback_http=allow_loopback_http, now=now)
        )
    return loaded


def _split(text: str) -> list[tuple[int, str]]:
    """Documents as (1-based first line, text). A chunk keeps its place with leading blank
    lines, so YAML's own line numbers stay right."""
    chunks: list[tuple[int, str]] = []
    lines = text.splitlines(keepends=True)
    start = 0
    for number, line in enumerate(lines):
        if _SEPARATOR.match(line.rstrip("\r\n")):
            chunks.append((start + 1, "".join(lines[start:number])))
            start = number + 1
    chunks.append((start + 1, "".join(lines[start:])))
    return [(first, chunk) for first, chunk in chunks if chunk.strip()]


def _yaml_failure(
    source: str, index: int, first_line: int, chunk: str, error: yaml.YAMLError
) -> LoadFailure:
    mark = getattr(error, "problem_mark", None)
    last_line = first_line + max(chunk.count("\n") - 1, 0)
    # An error "at the end of the stream" points past the document; show its last line.
    line = min(first_line + mark.line, last_line) if mark is not None else first_line
    problem = getattr(error, "problem", None) or "malformed YAML"
    kind, name = _sniff(chunk)
    return LoadFailure(source, index, kind, name, f"malformed YAML: {problem}", line)


def _sniff(chunk: str) -> tuple[str, str]:
    """Kind and name read with regular expressions from a document YAML could not parse."""
    kind = re.search(r"^kind:\s*([A-Za-z]+)\s*$", chunk, re.MULTILINE)
    name = re.search(r"^  name:\s*([-a-z0-9.]+)\s*$", chunk, re.MULTILINE)
    return (kind.group(1) if kind else "", name.group(1) if name else "")


def _parse(
    document: Any,
    source: str,
    index: int,
    first_line: int,
    allow_loopback_http: bool,
    now: float | None,
) -> Loaded:
    try:
        return parsing.parse_resource(document, allow_loopback_http=allow_loopback_http, now=now)
    except errors.ValidationError as error:
        kind = error.kind
        name = error.name
        if not kind and isinstance(document, Mapping) and isinstance(document.get("kind"), str):
            kind = str(document["kind"])[:63]
        message = "; ".join(str(e) for e in error.errors)
        return LoadFailure(source, index, kind, name, message, first_line)
