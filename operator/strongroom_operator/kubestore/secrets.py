"""How records and documents are laid out as Secrets.

Names are deterministic hashes, so any replica finds a record without a lookup table, and a
grant or App name of any length fits the 253-character Secret name; the real names ride in
annotations. Labels carry only hashes and fixed words (label values are limited to 63
characters), and let one label selector list or watch one App's records.

``strongroom.dev/version`` is the port's compare-and-swap version (1, 2, 3 …): the port's
contract counts writes, while a resourceVersion is an opaque, cluster-wide number. The
resourceVersion is what makes the write safe (it is the PUT's precondition); the annotation is
what the caller compares with.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from typing import Any

from strongroom_core.storage import records, sqlite_codec

MANAGED_BY = "app.kubernetes.io/managed-by"
RECORD = "strongroom.dev/record"
APP_KEY = "strongroom.dev/app-key"
DOCUMENT = "strongroom.dev/document"
NAMESPACE = "strongroom.dev/namespace"
APP = "strongroom.dev/app"
NAME = "strongroom.dev/name"
VERSION = "strongroom.dev/version"

GRANT, DOC = "grant", "document"
_LABEL_VALUE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode("utf-8")).hexdigest()[:40]


def app_key(namespace: str, app: str) -> str:
    return _digest(namespace, app)


def document_label(name: str) -> str:
    return name if _LABEL_VALUE.fullmatch(name) else _digest(name)


def grant_secret_name(namespace: str, name: str) -> str:
    return f"sr-grant-{_digest(namespace, name)}"


def document_secret_name(namespace: str, app: str, name: str) -> str:
    return f"sr-doc-{_digest(namespace, app, name)}"


def app_selector(namespace: str, app: str) -> str:
    return f"{APP_KEY}={app_key(namespace, app)}"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _unb64(value: Any) -> str:
    return base64.b64decode(str(value)).decode("utf-8")


def version_of(secret: dict[str, Any]) -> int:
    annotations = secret.get("metadata", {}).get("annotations") or {}
    try:
        return int(annotations.get(VERSION, "0"))
    except ValueError:
        return 0


def resource_version(obj: dict[str, Any]) -> int:
    """The resourceVersion as the port's revision. Kubernetes calls it opaque; every API server
    backed by etcd uses etcd's integer revision, and that is what this relies on."""
    value = str(obj.get("metadata", {}).get("resourceVersion", ""))
    if not value.isdigit():
        raise ValueError(
            f"resourceVersion {value!r} is not an integer; this API server is unsupported"
        )
    return int(value)


def grant_secret(namespace: str, record: records.GrantRecord, version: int) -> dict[str, Any]:
    stored = dataclasses.replace(record, version=version)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "strongroom.dev/grant-record",
        "metadata": {
            "name": grant_secret_name(record.namespace, record.name),
            "namespace": namespace,
            "labels": {
                MANAGED_BY: "strongroom",
                RECORD: GRANT,
                APP_KEY: app_key(record.namespace, record.app),
            },
            "annotations": {
                NAMESPACE: record.namespace,
                APP: record.app,
                NAME: record.name,
                VERSION: str(version),
            },
        },
        "data": {"record": _b64(sqlite_codec.grant_to_json(stored))},
    }


def grant_from_secret(secret: dict[str, Any]) -> records.GrantRecord:
    record = sqlite_codec.grant_from_json(_unb64(secret["data"]["record"]))
    return dataclasses.replace(record, version=version_of(secret))


def document_secret(
    control_namespace: str,
    namespace: str,
    app: str,
    name: str,
    body: dict[str, Any],
    version: int,
) -> dict[str, Any]:
    labels = {MANAGED_BY: "strongroom", RECORD: DOC, DOCUMENT: document_label(name)}
    if namespace or app:
        labels[APP_KEY] = app_key(namespace, app)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "strongroom.dev/document",
        "metadata": {
            "name": document_secret_name(namespace, app, name),
            "namespace": control_namespace,
            "labels": labels,
            "annotations": {NAMESPACE: namespace, APP: app, NAME: name, VERSION: str(version)},
        },
        "data": {"body": _b64(json.dumps(body, sort_keys=True, separators=(",", ":")))},
    }


def document_from_secret(secret: dict[str, Any]) -> records.StoredDocument:
    body = json.loads(_unb64(secret["data"]["body"]))
    return records.StoredDocument(body=body, version=version_of(secret))


def names(secret: dict[str, Any]) -> tuple[str, str, str]:
    """(namespace, app, name) of the record a Secret holds."""
    annotations = secret.get("metadata", {}).get("annotations") or {}
    return (annotations.get(NAMESPACE, ""), annotations.get(APP, ""), annotations.get(NAME, ""))


def kind(secret: dict[str, Any]) -> str:
    return str((secret.get("metadata", {}).get("labels") or {}).get(RECORD, ""))
