"""Kubernetes ``v1`` Secret documents in the dev folder.

In a cluster a Provider's ``spec.oauth2.clientSecretRef`` names a Secret the operator reads. Dev
mode has no API server, so the folder may hold the Secret itself (``stringData`` or base64
``data``, as ``kubectl apply`` takes it). These documents only resolve such references: they are
kept away from the resource loader (which would call them foreign) and never leave this process
in plaintext. Problems name the file, the document and the field, never a value.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_SEPARATOR = re.compile(r"^---(\s.*)?$")
_SECRET_KIND = re.compile(r"""^kind:\s*["']?Secret["']?\s*(#.*)?$""", re.MULTILINE)

SecretRef = tuple[str, str]
"""``(namespace, name)``."""


@dataclass(slots=True)
class SecretScan:
    secrets: dict[SecretRef, dict[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"SecretScan(<{len(self.secrets)} secrets>, problems={self.problems!r})"


def is_secret_kind(kind: str) -> bool:
    return kind == "Secret"


def scan(folder: Path) -> SecretScan:
    """Every ``kind: Secret`` document of the folder's ``*.yaml``/``*.yml`` files."""
    result = SecretScan()
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    for file in files:
        try:
            text = file.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # the resource loader reports unreadable files
        for line, chunk in _documents(text):
            if "Secret" in chunk:
                _scan_document(f"{file}:{line}", chunk, result)
    return result


def _documents(text: str) -> list[tuple[int, str]]:
    lines = text.splitlines(keepends=True)
    chunks: list[tuple[int, str]] = []
    start = 0
    for number, line in enumerate(lines):
        if _SEPARATOR.match(line.rstrip("\r\n")):
            chunks.append((start + 1, "".join(lines[start:number])))
            start = number + 1
    chunks.append((start + 1, "".join(lines[start:])))
    return [(first, chunk) for first, chunk in chunks if chunk.strip()]


def _scan_document(where: str, chunk: str, result: SecretScan) -> None:
    try:
        # BaseLoader: every scalar stays a string, as Kubernetes reads Secret values.
        document = yaml.load(chunk, Loader=yaml.BaseLoader)  # noqa: S506 -- no object tags
    except yaml.YAMLError:
        if _SECRET_KIND.search(chunk):
            result.problems.append(f"{where}: Secret: malformed YAML")
        return
    if not isinstance(document, Mapping) or document.get("kind") != "Secret":
        return
    try:
        ref, data = parse_secret(document)
    except ValueError as e:
        result.problems.append(f"{where}: Secret: {e}")
        return
    result.secrets[ref] = data


def parse_secret(document: Any) -> tuple[SecretRef, dict[str, str]]:
    """``((namespace, name), data)`` of a Secret document; ``ValueError`` naming the field."""
    if not isinstance(document, Mapping):
        raise ValueError("expected a mapping")
    if document.get("apiVersion") != "v1":
        raise ValueError("apiVersion: must be v1 for a Secret")
    meta = document.get("metadata")
    if not isinstance(meta, Mapping) or not isinstance(meta.get("name"), str) or not meta["name"]:
        raise ValueError("metadata.name: required")
    namespace = meta.get("namespace") or "default"
    if not isinstance(namespace, str):
        raise ValueError("metadata.namespace: must be a string")
    data: dict[str, str] = {}
    encoded = document.get("data") or {}
    if not isinstance(encoded, Mapping):
        raise ValueError("data: must be a mapping of base64 values")
    for key, value in encoded.items():
        try:
            data[str(key)] = base64.b64decode(str(value), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise ValueError(f"data.{key}: not base64 of UTF-8 text; use stringData") from None
    plain = document.get("stringData") or {}
    if not isinstance(plain, Mapping):
        raise ValueError("stringData: must be a mapping of strings")
    data.update({str(key): str(value) for key, value in plain.items()})
    return (namespace, str(meta["name"])), data
