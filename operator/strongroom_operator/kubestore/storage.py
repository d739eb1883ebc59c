"""``KubernetesStorage``: the storage port on the Kubernetes API.

Every record is one Secret in the control plane's namespace (layout: :mod:`.secrets`). A write
is read → compare the port's version → PUT with the read ``resourceVersion`` as precondition; a
409 means someone wrote in between, so it reads again: if the version moved, the caller lost
(``ConflictError``); if only something else changed (a label added by hand), it retries.

Audit is not kept in Kubernetes (an event per credential use would swamp etcd): the storage
delegates ``append_audit``/``query_audit`` to an ``AuditStore`` (the SQLite collector until
PostgreSQL arrives).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from strongroom_core.storage import errors, ports, records
from strongroom_kube import client
from strongroom_operator.kubestore import changes, secrets

SECRETS = "/api/v1/namespaces/{namespace}/secrets"
CONFLICT_RETRIES = 8


class AuditStore(Protocol):
    async def append_audit(self, events: Sequence[dict[str, Any]]) -> int: ...

    async def query_audit(self, query: records.AuditQuery) -> list[dict[str, Any]]: ...


class KubernetesStorage:
    """Grants and documents in Secrets of ``namespace`` (the control plane's). Owns ``kube``:
    ``close()`` closes it, which also ends every watch."""

    def __init__(
        self,
        kube: client.KubeClient,
        namespace: str,
        *,
        audit: AuditStore | None = None,
        watch_timeout: int = 290,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.audit = audit
        self.watch_timeout = watch_timeout
        self.closed = False

    def __repr__(self) -> str:
        return f"KubernetesStorage({self.kube.cluster.server!r}, namespace={self.namespace!r})"

    async def open(self) -> None:
        await self.kube.open()

    async def close(self) -> None:
        self.closed = True
        await self.kube.close()

    async def __aenter__(self) -> KubernetesStorage:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def collection(self) -> str:
        return SECRETS.format(namespace=self.namespace)

    async def _get(self, name: str) -> dict[str, Any] | None:
        try:
            return await self.kube.request("GET", f"{self.collection}/{name}")
        except client.NotFound:
            return None

    async def _list(self, selector: str) -> list[dict[str, Any]]:
        found = await self.kube.request("GET", self.collection, params={"labelSelector": selector})
        return list(found.get("items") or [])

    async def _create(self, secret: dict[str, Any], what: str) -> None:
        try:
            await self.kube.request("POST", self.collection, body=secret)
        except client.AlreadyExists:
            raise errors.AlreadyExistsError(f"{what} already exists") from None

    # --- grants -------------------------------------------------------------------------

    async def get_grant(self, namespace: str, name: str) -> records.GrantRecord | None:
        secret = await self._get(secrets.grant_secret_name(namespace, name))
        return None if secret is None else secrets.grant_from_secret(secret)

    async def list_grants(self, namespace: str, app: str) -> list[records.GrantRecord]:
        selector = f"{secrets.RECORD}={secrets.GRANT},{secrets.app_selector(namespace, app)}"
        found = [
            secrets.grant_from_secret(s)
            for s in await self._list(selector)
            if secrets.names(s)[:2] == (namespace, app)
        ]
        return sorted(found, key=lambda g: g.name)

    async def create_grant(self, record: records.GrantRecord) -> records.GrantRecord:
        secret = secrets.grant_secret(self.namespace, record, 1)
        await self._create(secret, f"grant {record.namespace}/{record.name}")
        return secrets.grant_from_secret(secret)

    async def replace_grant(
        self, record: records.GrantRecord, expected_version: int
    ) -> records.GrantRecord:
        what = f"grant {record.namespace}/{record.name}"
        name = secrets.grant_secret_name(record.namespace, record.name)
        for _ in range(CONFLICT_RETRIES):
            current = await self._checked(name, what, expected_version)
            secret = secrets.grant_secret(self.namespace, record, expected_version + 1)
            if await self._put(name, secret, current):
                return secrets.grant_from_secret(secret)
        raise errors.ConflictError(what, expected_version, None)

    async def delete_grant(
        self, namespace: str, name: str, expected_version: int | None = None
    ) -> None:
        what = f"grant {namespace}/{name}"
        secret_name = secrets.grant_secret_name(namespace, name)
        for _ in range(CONFLICT_RETRIES):
            current = await self._checked(secret_name, what, expected_version)
            options = {
                "kind": "DeleteOptions",
                "apiVersion": "v1",
                "preconditions": {"resourceVersion": current["metadata"]["resourceVersion"]},
            }
            try:
                await self.kube.request("DELETE", f"{self.collection}/{secret_name}", body=options)
                return
            except client.Conflict:
                continue
            except client.NotFound:
                raise errors.NotFoundError(f"{what} does not exist") from None
        raise errors.ConflictError(what, expected_version, None)

    async def _checked(self, name: str, what: str, expected: int | None) -> dict[str, Any]:
        current = await self._get(name)
        if current is None:
            raise errors.NotFoundError(f"{what} does not exist")
        stored = secrets.version_of(current)
        if expected is not None and stored != expected:
            raise errors.ConflictError(what, expected, stored)
        return current

    async def _put(self, name: str, secret: dict[str, Any], current: dict[str, Any]) -> bool:
        """PUT with ``current``'s resourceVersion; False when someone wrote in between."""
        secret["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        try:
            await self.kube.request("PUT", f"{self.collection}/{name}", body=secret)
        except client.Conflict:
            return False
        finally:
            del secret["metadata"]["resourceVersion"]
        return True

    # --- documents ----------------------------------------------------------------------

    async def get_document(
        self, namespace: str, app: str, name: str
    ) -> records.StoredDocument | None:
        secret = await self._get(secrets.document_secret_name(namespace, app, name))
        return None if secret is None else secrets.document_from_secret(secret)

    async def put_document(
        self,
        namespace: str,
        app: str,
        name: str,
        body: dict[str, Any],
        expected_version: int | None,
    ) -> records.StoredDocument:
        what = f"document {name!r} of {namespace}/{app}" if app else f"document {name!r}"
        secret_name = secrets.document_secret_name(namespace, app, name)
        if expected_version is None:
            secret = secrets.document_secret(self.namespace, namespace, app, name, body, 1)
            await self._create(secret, what)
            return records.StoredDocument(body=body, version=1)
        for _ in range(CONFLICT_RETRIES):
            current = await self._checked(secret_name, what, expected_version)
            version = expected_version + 1
            secret = secrets.document_secret(self.namespace, namespace, app, name, body, version)
            if await self._put(secret_name, secret, current):
                return records.StoredDocument(body=body, version=version)
        raise errors.ConflictError(what, expected_version, None)

    async def list_documents(self, name: str) -> list[tuple[str, str]]:
        selector = (
            f"{secrets.RECORD}={secrets.DOC},{secrets.DOCUMENT}={secrets.document_label(name)}"
        )
        found = {
            (namespace, app)
            for secret in await self._list(selector)
            for namespace, app, stored_name in [secrets.names(secret)]
            if stored_name == name and (namespace, app) != ("", "")
        }
        return sorted(found)

    # --- changes ------------------------------------------------------------------------

    async def current_revision(self) -> int:
        found = await self.kube.request(
            "GET", self.collection, params={"labelSelector": secrets.RECORD, "limit": "1"}
        )
        return secrets.resource_version(found)

    async def check_revision(self, since: int) -> None:
        """Asks the API server for a list at exactly ``since``: 410 means compacted away."""
        if since <= 0:
            return
        current = await self.current_revision()
        if since > current:
            raise errors.RevisionGoneError(since, 0, current)
        params = {
            "labelSelector": secrets.RECORD,
            "limit": "1",
            "resourceVersion": str(since),
            "resourceVersionMatch": "Exact",
        }
        try:
            await self.kube.request("GET", self.collection, params=params)
        except client.Gone:
            raise errors.RevisionGoneError(since, 0, current) from None

    def watch(self, namespace: str, app: str, since: int = 0) -> AsyncIterator[records.Change]:
        """See :func:`changes.watch`: from ``since``, or from a snapshot when ``since`` is 0."""
        return changes.watch(self, namespace, app, since)

    # --- audit --------------------------------------------------------------------------

    def _audit(self) -> AuditStore:
        if self.audit is None:
            raise errors.StorageError(
                "KubernetesStorage keeps no audit records: pass audit=<an audit store>"
                " (the SQLite collector)"
            )
        return self.audit

    async def append_audit(self, events: Sequence[dict[str, Any]]) -> int:
        return await self._audit().append_audit(events)

    async def query_audit(self, query: records.AuditQuery) -> list[dict[str, Any]]:
        return await self._audit().query_audit(query)


def _conforms_to_the_port(storage: KubernetesStorage) -> ports.Storage:
    """Never called: makes mypy check that ``KubernetesStorage`` implements ``ports.Storage``."""
    return storage
