"""A checked view of the pod in a review: only the fields the webhook reads, each type-checked,
so a malformed pod becomes a denial naming the field rather than an exception in the handler."""

from __future__ import annotations

import dataclasses
from typing import Any

from strongroom_webhook import reviews


class MalformedPod(reviews.MalformedReview):
    """A pod field has the wrong shape; the message names it."""


@dataclasses.dataclass(frozen=True, slots=True)
class Container:
    name: str
    env_names: frozenset[str]
    has_env: bool
    """``env`` is present (a list), so new variables are added to it rather than creating it."""
    ports: tuple[int, ...]
    restart_policy: str
    env: tuple[dict[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Pod:
    name: str
    annotations: dict[str, str]
    service_account: str
    host_network: bool
    share_process_namespace: bool
    containers: tuple[Container, ...]
    init_containers: tuple[Container, ...]
    has_init_containers: bool
    volume_names: frozenset[str]
    has_volumes: bool

    def container_named(self, name: str) -> Container | None:
        for container in (*self.init_containers, *self.containers):
            if container.name == name:
                return container
        return None


def read(obj: dict[str, Any]) -> Pod:
    metadata = _mapping(obj, "metadata", "metadata")
    spec = _mapping(obj, "spec", "spec")
    annotations = _mapping(metadata, "annotations", "metadata.annotations")
    for key, value in annotations.items():
        if not isinstance(value, str):
            raise MalformedPod(f"metadata.annotations[{reviews.quoted(key)}]: not a string")
    name = metadata.get("name") or metadata.get("generateName") or ""
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    if not isinstance(name, str) or not isinstance(account, str):
        raise MalformedPod("metadata.name or spec.serviceAccountName: not a string")
    volumes = _list(spec, "volumes", "spec.volumes")
    volume_names = set()
    for i, volume in enumerate(volumes):
        if not isinstance(volume, dict) or not isinstance(volume.get("name"), str):
            raise MalformedPod(f"spec.volumes[{i}].name: missing or not a string")
        volume_names.add(volume["name"])
    return Pod(
        name=name,
        annotations=dict(annotations),
        service_account=account,
        host_network=_flag(spec, "hostNetwork"),
        share_process_namespace=_flag(spec, "shareProcessNamespace"),
        containers=_containers(spec, "containers"),
        init_containers=_containers(spec, "initContainers"),
        has_init_containers="initContainers" in spec and spec["initContainers"] is not None,
        volume_names=frozenset(volume_names),
        has_volumes="volumes" in spec and spec["volumes"] is not None,
    )


def _mapping(parent: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedPod(f"{path}: not an object")
    return value


def _list(parent: dict[str, Any], key: str, path: str) -> list[Any]:
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPod(f"{path}: not a list")
    return value


def _flag(spec: dict[str, Any], key: str) -> bool:
    value = spec.get(key)
    if value is not None and not isinstance(value, bool):
        raise MalformedPod(f"spec.{key}: {reviews.quoted(value)} is not a boolean")
    return value is True


def _containers(spec: dict[str, Any], key: str) -> tuple[Container, ...]:
    found = []
    for i, raw in enumerate(_list(spec, key, f"spec.{key}")):
        path = f"spec.{key}[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise MalformedPod(f"{path}.name: missing or not a string")
        env = _list(raw, "env", f"{path}.env")
        names = set()
        for j, variable in enumerate(env):
            if not isinstance(variable, dict) or not isinstance(variable.get("name"), str):
                raise MalformedPod(f"{path}.env[{j}].name: missing or not a string")
            names.add(variable["name"])
        ports = []
        for j, port in enumerate(_list(raw, "ports", f"{path}.ports")):
            number = port.get("containerPort") if isinstance(port, dict) else None
            if not isinstance(number, int) or isinstance(number, bool):
                raise MalformedPod(f"{path}.ports[{j}].containerPort: missing or not a number")
            ports.append(number)
        policy = raw.get("restartPolicy") or ""
        if not isinstance(policy, str):
            raise MalformedPod(f"{path}.restartPolicy: not a string")
        found.append(
            Container(
                name=raw["name"],
                env_names=frozenset(names),
                has_env=raw.get("env") is not None,
                ports=tuple(ports),
                restart_policy=policy,
                env=tuple(env),
            )
        )
    return tuple(found)
