"""Reading the Kubernetes Secrets a resource refers to (``spec.oauth2.clientSecretRef``).

Reconcile takes a :data:`SecretReader` in its context instead of talking to the API server
itself, so the same code runs under kopf (a reader over the Kubernetes API, later) and in dev
mode (:class:`MappingSecrets`, filled from ``v1`` Secret documents in the folder). Secret values
never appear in a message, a repr or a log line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

SecretReader = Callable[[str, str], Awaitable[Mapping[str, str] | None]]
"""``(namespace, name)`` → the Secret's decoded data, or ``None`` when there is no such Secret.
Raises :class:`SecretReadError` when the Secret could not be read at all."""


class SecretReadError(Exception):
    """The Secret source failed (not: the Secret is absent). The message names the Secret."""


class MappingSecrets:
    """Secrets held in memory: dev mode (documents from the folder) and tests.
    ``replace`` swaps the whole set, e.g. after the folder was read again."""

    def __init__(self, secrets: Mapping[tuple[str, str], Mapping[str, str]] | None = None) -> None:
        self._secrets: dict[tuple[str, str], dict[str, str]] = {}
        self.replace(secrets or {})

    def __repr__(self) -> str:
        return f"MappingSecrets(<{len(self._secrets)} secrets>)"

    def replace(self, secrets: Mapping[tuple[str, str], Mapping[str, str]]) -> None:
        self._secrets = {ref: dict(data) for ref, data in secrets.items()}

    async def __call__(self, namespace: str, name: str) -> Mapping[str, str] | None:
        return self._secrets.get((namespace, name))
