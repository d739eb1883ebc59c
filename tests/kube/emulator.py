"""``KubeEmulator``: an in-process Kubernetes API server for tests, owned by the project.

Why not kmock's ``KubernetesEmulator`` (kmock 0.8, which DESIGN.md names)? Its state lives in
``_handle``, which merges every write into a history of dicts before any reaction runs and
publishes to a bus that a watch subscribes to only after it has copied the snapshot (an event in
between is lost). Compare-and-swap, server-assigned metadata, the status subresource, selectors,
watch-from-revision with an event log, 410, finalizers, PUT, deletecollection, namespaces and
TokenReview would each mean overriding that same method and its name-mangled helpers
(``__get_objs``, ``__check``), i.e. replacing the whole class while depending on its private
internals. So this is a small emulator of the REST semantics the project relies on, written on
aiohttp like kmock, with kmock-compatible wire formats (kopf runs against it unchanged):

- objects get uid, creationTimestamp, generation (bumped on a non-metadata, non-status change
  only), namespace from the URL and a resourceVersion from one global counter; create answers
  201, a duplicate 409 AlreadyExists, a write with a stale resourceVersion 409 Conflict (PUT,
  merge/strategic/JSON patch, delete preconditions);
- ``/status`` writes change only status; main-resource writes keep the stored status;
- label selectors (=, ==, !=, in, notin, exists, !exists), field selectors metadata.name and
  metadata.namespace; list carries the current resourceVersion;
- watch from a resourceVersion replays the event log (nothing lost between list and watch), an
  object leaving a selector is DELETED, ``timeoutSeconds`` ends the stream, bookmarks when
  allowed, ``sendInitialEvents``; a revision older than the log is 410 (``compact()`` forces it);
- finalizers and deletionTimestamp; deleting an owner garbage-collects its dependents; deleting
  a namespace deletes what is in it; objects can only be created in an existing namespace;
- Secrets: ``stringData`` folded into base64 ``data``, bad base64 refused;
- TokenReview answered from tokens a test registers, bound to a pod by name and uid;
  TokenRequest (``serviceaccounts/<name>/token``) mints such tokens, JWT-shaped;
- errors are ``Status`` objects with the API server's reason, code and message.

Not emulated: OpenAPI schema and CEL validation (core mirrors every CEL rule and is tested
there), RBAC (every known token may do anything, except what ``forbid`` refuses),
server-side apply, list paging
(``limit``/``continue`` are ignored: the whole list comes back), old states for
``resourceVersionMatch=Exact`` lists (the window is checked, the current state served).

Use::

    async with KubeEmulator.start() as kube:      # or the ``kube`` fixture
        kube.url, kube.kubeconfig, kube.admin_token
        await kube.create({...}); kube.get("secrets", "name", namespace="ns")
        pod = kube.create_pod("team-a", "web-0", service_account="shop")
        kube.register_token("tok", namespace="team-a", service_account="shop", pod="web-0")
"""

from __future__ import annotations

import contextlib
import copy
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from tests.kube import errors, patching, resources, selectors, server, store, tls, tokens

PROJECT_CRDS = Path(__file__).resolve().parents[2] / "crds"
CONTROL_PLANE_NAMESPACE = "strongroom-system"
DEFAULT_NAMESPACES = ("default", "kube-system", CONTROL_PLANE_NAMESPACE)
SIDECAR_CONTAINER = "strongroom-sidecar"


class KubeEmulator:
    """A running emulator. Create with :meth:`start`; every helper acts on the state directly
    (no HTTP) and produces the same events a client's request would."""

    def __init__(self, api: server.Api, url: str, kubeconfig: Path, ca_file: Path | None) -> None:
        self._api = api
        self.store = api.store
        self.url = url
        self.kubeconfig = kubeconfig
        """A kubeconfig file (server, admin token, CA when TLS) for kopf and other clients."""
        self.ca_file = ca_file
        self.admin_token = next(iter(api.admin_tokens))
        self.settings = api.settings

    def __repr__(self) -> str:
        return f"KubeEmulator({self.url!r})"

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls,
        *,
        crds: Path | None = PROJECT_CRDS,
        namespaces: Iterable[str] = DEFAULT_NAMESPACES,
        tls_enabled: bool = False,
        history: int = 10_000,
        bookmark_interval: float = 1.0,
    ) -> AsyncIterator[KubeEmulator]:
        """Serve on a free loopback port; ``crds`` (a folder of CRD YAML) applied first,
        ``namespaces`` created. Stops and removes its files on exit."""
        registry = resources.Registry()
        for builtin in resources.BUILTIN:
            registry.add(builtin)
        objects = store.Store(registry, history=history)
        api = server.Api(
            objects,
            tokens.Tokens(objects),
            {secrets.token_urlsafe(24)},
            server.Settings(bookmark_interval=bookmark_interval),
        )
        directory = Path(tempfile.mkdtemp(prefix="strongroom-kube-"))
        runner = web.AppRunner(
            api.app(), shutdown_timeout=1.0, handle_signals=False, handler_cancellation=True
        )
        await runner.setup()
        try:
            ssl_context, ca_file = tls.server_context(directory) if tls_enabled else (None, None)
            site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            url = f"{'https' if tls_enabled else 'http'}://127.0.0.1:{port}"
            kubeconfig = directory / "kubeconfig"
            kube = cls(api, url, kubeconfig, ca_file)
            kubeconfig.write_text(yaml.safe_dump(kube.kubeconfig_document()))
            for namespace in namespaces:
                kube.create_namespace(namespace)
            if crds is not None:
                kube.apply_crds(crds)
            yield kube
        finally:
            api.closing = True
            objects.wake()
            await runner.cleanup()
            shutil.rmtree(directory, ignore_errors=True)

    def kubeconfig_document(self, token: str | None = None) -> dict[str, Any]:
        cluster: dict[str, Any] = {"server": self.url}
        if self.ca_file is not None:
            cluster["certificate-authority"] = str(self.ca_file)
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "emulator", "cluster": cluster}],
            "users": [{"name": "admin", "user": {"token": token or self.admin_token}}],
            "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": "admin"}}],
            "current-context": "emulator",
        }

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path?query) of every request served so far."""
        return self._api.requests

    def forbid(self, method: str, plural: str) -> None:
        """Answer every ``method`` request on ``plural`` (any namespace) with 403 Forbidden,
        as the API server does without the RBAC right: there is no RBAC here otherwise."""
        self._api.forbidden.add((method.upper(), plural))

    def allow(self, method: str, plural: str) -> None:
        """Undo :meth:`forbid`."""
        self._api.forbidden.discard((method.upper(), plural))

    # --- resources ------------------------------------------------------------------------

    def resource(self, name: str) -> resources.ResourceDef:
        """By ``plural`` (core first) or ``plural.group``, like ``kubectl get``."""
        plural, _, group = name.partition(".")
        candidates = [r for r in self.store.registry.all() if r.plural == plural]
        if group:
            candidates = [r for r in candidates if r.group == group]
        else:
            candidates.sort(key=lambda r: r.group != "")
        if not candidates:
            raise KeyError(f"no resource {name!r} is served (apply its CRD first)")
        return candidates[0]

    def _of(self, obj: dict[str, Any]) -> resources.ResourceDef:
        api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        for res in self.store.registry.all():
            if res.api_version == api_version and res.kind == kind:
                return res
        raise KeyError(f"no resource for apiVersion {api_version!r} kind {kind!r}")

    def apply_crds(self, folder: Path = PROJECT_CRDS) -> None:
        for path in sorted(folder.glob("*.yaml")):
            for document in yaml.safe_load_all(path.read_text()):
                if document and document.get("kind") == "CustomResourceDefinition":
                    self.create(document)

    def enable_kopf_peering(self, name: str = "default") -> dict[str, Any]:
        """kopf's peering CRDs (``kopf.dev/v1`` ClusterKopfPeering and KopfPeering) and a
        cluster peering object ``name``, for tests of several operator replicas
        (``kopf.operator(..., standalone=False, peering_name=name, clusterwide=True)``)."""
        for kind, scope in (("ClusterKopfPeering", "Cluster"), ("KopfPeering", "Namespaced")):
            plural = f"{kind.lower()}s"
            self.create(
                {
                    "apiVersion": "apiextensions.k8s.io/v1",
                    "kind": "CustomResourceDefinition",
                    "metadata": {"name": f"{plural}.kopf.dev"},
                    "spec": {
                        "group": "kopf.dev",
                        "scope": scope,
                        "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
                        "versions": [{"name": "v1", "served": True, "storage": True}],
                    },
                }
            )
        return self.create(
            {"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering", "metadata": {"name": name}}
        )

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create as a POST would (201 semantics; ``errors.ApiError`` on failure)."""
        namespace = (obj.get("metadata") or {}).get("namespace", "")
        return self.store.create(self._of(obj), namespace, obj)

    def get(self, resource: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        with contextlib.suppress(errors.ApiError):
            return self.store.get(self.resource(resource), namespace, name)
        return None

    def list(
        self, resource: str, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        return self.store.list(
            self.resource(resource),
            namespace,
            selectors.label_selector(label_selector),
            selectors.field_selector(None),
        )

    def patch(
        self,
        resource: str,
        name: str,
        patch: dict[str, Any],
        namespace: str = "",
        subresource: str = "",
    ) -> dict[str, Any]:
        """A merge patch, as ``kubectl patch --type=merge`` (``subresource="status"`` too)."""
        res = self.resource(resource)
        current = self.store.get(res, namespace, name)
        patched = patching.apply(patching.MERGE, current, patch)
        return self.store.update(res, namespace, name, patched, subresource)

    def delete(self, resource: str, name: str, namespace: str = "") -> dict[str, Any]:
        return self.store.delete(self.resource(resource), namespace, name)

    def create_namespace(self, name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
        return self.create(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": name,
                    "labels": {"kubernetes.io/metadata.name": name, **(labels or {})},
                },
                "status": {"phase": "Active"},
            }
        )

    def compact(self) -> None:
        """Forget the event log: watches from any earlier resourceVersion get 410 Gone."""
        self.store.compact()

    # --- pods and tokens --------------------------------------------------------------------

    def create_pod(
        self,
        namespace: str,
        name: str,
        service_account: str = "default",
        *,
        sidecar: bool = True,
        sidecar_image: str = "strongroom/sidecar:dev",
        annotations: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A running pod; with ``sidecar`` the Strongroom sidecar is a native sidecar (an init
        container with ``restartPolicy: Always``) as the webhook injects it."""
        spec: dict[str, Any] = {
            "serviceAccountName": service_account,
            "containers": [{"name": "app", "image": "example/app:1"}],
        }
        if sidecar:
            spec["initContainers"] = [
                {"name": SIDECAR_CONTAINER, "image": sidecar_image, "restartPolicy": "Always"}
            ]
        created = self.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "annotations": annotations or {},
                },
                "spec": spec,
            }
        )
        del created
        return self.patch("pods", name, {"status": {"phase": "Running"}}, namespace, "status")

    def register_token(
        self,
        token: str,
        *,
        namespace: str,
        service_account: str,
        pod: str | None = None,
        audiences: Iterable[str] = ("strongroom",),
    ) -> tokens.ServiceAccountToken:
        """Make ``token`` a ServiceAccount token: TokenReview authenticates it as
        ``system:serviceaccount:<namespace>:<service_account>`` for ``audiences``, bound to the
        pod ``pod`` (which must exist now; its uid is bound, so a replaced pod fails review).
        The token also authenticates API requests (the emulator has no RBAC)."""
        pod_uid = None
        if pod is not None:
            found = self.get("pods", pod, namespace)
            if found is None:
                raise KeyError(f"pod {namespace}/{pod} does not exist: create_pod() it first")
            pod_uid = found["metadata"]["uid"]
        account = tokens.ServiceAccountToken(
            namespace, service_account, tuple(audiences), pod, pod_uid
        )
        self._api.tokens.register(token, account)
        return account

    def revoke_token(self, token: str) -> None:
        self._api.tokens.revoke(token)

    def add_admin_token(self, token: str) -> None:
        """Another token with full access (e.g. one a test writes to a token file)."""
        self._api.admin_tokens.add(token)

    def remove_admin_token(self, token: str) -> None:
        self._api.admin_tokens.discard(token)


def sanitized(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without server-assigned metadata, to compare objects by content."""
    copied = copy.deepcopy(obj)
    for field in (*store.SYSTEM_FIELDS, "managedFields"):
        copied.get("metadata", {}).pop(field, None)
    return copied


__all__ = [
    "CONTROL_PLANE_NAMESPACE",
    "SIDECAR_CONTAINER",
    "KubeEmulator",
    "sanitized",
]
