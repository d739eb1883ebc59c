"""The admission pipeline (the vault-k8s shape): should-inject → refuse system namespaces →
read config → validate → build patch. Every refusal is a :class:`Denied` whose message says
what is wrong and what to do; the server turns it into a denied AdmissionReview.

Idempotent by reading the spec: a pod that already carries a container named like the sidecar
gets no patch at all, whatever its annotations say (a re-invocation, or a pod spec copied from a
running pod). It is still checked (host network, shared process namespace, the App and its
ServiceAccounts), because the control plane trusts a pod that carries the sidecar.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from strongroom_core import podspec
from strongroom_webhook import (
    apps,
    patches,
    podannotations,
    pods,
    reviews,
    settings,
    sidecars,
    versions,
)

logger = logging.getLogger(__name__)
PREFIX = "Strongroom sidecar injection refused"


class Denied(Exception):
    """The pod is refused; the message names what is wrong."""


@dataclasses.dataclass
class Mutator:
    settings: settings.WebhookSettings
    apps: apps.AppSource
    server_version: Callable[[], versions.Version | None]

    async def admit(self, body: bytes) -> reviews.AdmissionReview:
        """One review in, one review out; :class:`reviews.NotAReview` for a body that cannot be
        answered as a review. Nothing else escapes: an unexpected error is a denial (the pod is
        not created without the sidecar it asked for)."""
        try:
            review = reviews.parse(body)
        except reviews.MalformedReview as e:
            return reviews.denied(e.uid, f"{PREFIX}: malformed AdmissionReview: {e}", 400)
        try:
            patch = await self.mutate(review)
        except Denied as e:
            logger.info("denied pod in %s: %s", review.namespace or "?", e)
            return reviews.denied(review.uid, f"{PREFIX}: {e}")
        except reviews.MalformedReview as e:
            return reviews.denied(review.uid, f"{PREFIX}: malformed pod: {e}", 400)
        except Exception:
            logger.exception("admission of a pod in %s failed", review.namespace or "?")
            return reviews.denied(
                review.uid, f"{PREFIX}: internal error in the webhook; see its log", 500
            )
        return reviews.allowed(review.uid, patch)

    async def mutate(self, review: reviews.Review) -> list[patches.Operation]:
        if review.kind != "Pod" or review.operation != "CREATE":
            return []
        pod = pods.read(review.object)
        namespace = review.namespace or str(review.object.get("metadata", {}).get("namespace", ""))
        if pod.container_named(podspec.SIDECAR_CONTAINER_NAME) is not None:
            await self._check_carrier(pod, namespace)
            return []
        # 1. should inject
        try:
            if not podannotations.inject_requested(pod.annotations):
                return []
        except podannotations.AnnotationError as e:
            raise Denied(str(e)) from None
        # 2. refuse system namespaces
        if namespace in (*podspec.SYSTEM_NAMESPACES, self.settings.namespace) or not namespace:
            raise Denied(
                f"namespace {namespace!r} is a system namespace; Strongroom never injects there "
                f"(remove the {podspec.INJECT_ANNOTATION} annotation or run the pod elsewhere)"
            )
        # 3. read config
        try:
            app = podannotations.app(pod.annotations)
            resources = podannotations.resources(pod.annotations)
        except podannotations.AnnotationError as e:
            raise Denied(str(e)) from None
        # 4. validate
        self._check_version()
        self._check_pod(pod)
        await self._check_app(pod, namespace, app)
        # 5. build the patch
        return self._patch(pod, app, resources)

    def _check_version(self) -> None:
        version = self.server_version()
        if version is None:
            raise Denied(
                "the Kubernetes API server's version is not known yet (the webhook could not "
                "read /version); retry in a moment"
            )
        if version < podspec.MIN_KUBERNETES_VERSION:
            need = ".".join(map(str, podspec.MIN_KUBERNETES_VERSION))
            raise Denied(
                f"Kubernetes {version[0]}.{version[1]} is too old: the sidecar runs as a native "
                f"sidecar (an init container with restartPolicy: Always), which needs {need} or "
                f"later; upgrade the cluster or remove the {podspec.INJECT_ANNOTATION} annotation"
            )

    def _check_pod(self, pod: pods.Pod, *, injecting: bool = True) -> None:
        if pod.host_network:
            raise Denied(
                "spec.hostNetwork: true is not allowed: the sidecar's loopback proxy would be "
                "reachable by every process on the node; remove hostNetwork"
            )
        if pod.share_process_namespace:
            raise Denied(
                "spec.shareProcessNamespace: true is not allowed: app containers could read the "
                "sidecar's memory, where credentials live; remove shareProcessNamespace"
            )
        if not injecting:
            return  # the sidecar is there already: its ports and volumes are its own
        ours = {podspec.PROXY_PORT, podspec.HEALTH_PORT}
        for container in (*pod.init_containers, *pod.containers):
            taken = ours.intersection(container.ports)
            if taken:
                raise Denied(
                    f"container {container.name!r} uses port {min(taken)}, which the sidecar "
                    f"needs ({podspec.PROXY_PORT} and {podspec.HEALTH_PORT}); use another port"
                )
        clash = pod.volume_names.intersection(sidecars.volume_names(self.settings))
        if clash:
            raise Denied(
                f"spec.volumes: {sorted(clash)[0]!r} is reserved for the sidecar; rename it"
            )

    async def _check_app(self, pod: pods.Pod, namespace: str, app: str) -> None:
        try:
            allowed = await self.apps.service_accounts(namespace, app)
        except apps.AppUnavailable as e:
            raise Denied(f"{e}; retry in a moment") from None
        if allowed is None:
            raise Denied(
                f"App {app!r} does not exist in namespace {namespace!r} "
                f"({podspec.APP_ANNOTATION}); create it or fix the annotation"
            )
        if pod.service_account not in allowed:
            listed = ", ".join(allowed) or "none"
            raise Denied(
                f"ServiceAccount {pod.service_account!r} is not allowed by App {app!r} "
                f"(spec.serviceAccounts: {listed}); add it to the App or run the pod as one of them"
            )

    async def _check_carrier(self, pod: pods.Pod, namespace: str) -> None:
        app = pod.annotations.get(podspec.APP_ANNOTATION, "").strip()
        if not app:
            sidecar = pod.container_named(podspec.SIDECAR_CONTAINER_NAME)
            app = _env_value(sidecar, sidecars.SIDECAR_ENV_PREFIX + "APP") if sidecar else ""
        if not app:
            raise Denied(
                f"the pod carries a container named {podspec.SIDECAR_CONTAINER_NAME!r} but names "
                f"no App; set {podspec.APP_ANNOTATION} or rename the container"
            )
        self._check_pod(pod, injecting=False)
        await self._check_app(pod, namespace, app)

    def _patch(
        self, pod: pods.Pod, app: str, resources: podannotations.Resources
    ) -> list[patches.Operation]:
        operations: list[patches.Operation] = []
        # Environment first: these indexes are the pod's own, before the sidecar shifts the
        # init containers by one. Prepended, so the user's variables can use $(STRONGROOM_URL).
        for section, containers in (
            ("containers", pod.containers),
            ("initContainers", pod.init_containers),
        ):
            for i, container in enumerate(containers):
                if podspec.SIDECAR_URL_ENV in container.env_names:
                    continue  # the user's own value wins
                operations += patches.append_or_create(
                    container.has_env, ("spec", section, i, "env"), [sidecars.url_env()], first=True
                )
        operations += patches.append_or_create(
            pod.has_volumes, ("spec", "volumes"), sidecars.volumes(self.settings)
        )
        sidecar = sidecars.container(self.settings, app, resources)
        if pod.has_init_containers:
            operations.append(patches.add(patches.pointer("spec", "initContainers", 0), sidecar))
        else:
            operations.append(patches.add(patches.pointer("spec", "initContainers"), [sidecar]))
        return operations


def _env_value(container: pods.Container, name: str) -> str:
    for variable in container.env:
        if variable.get("name") == name and isinstance(variable.get("value"), str):
            return str(variable["value"])
    return ""
