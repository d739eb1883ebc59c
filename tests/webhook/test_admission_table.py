"""Table-driven: an AdmissionReview in, the response's patch operations (op and path) or its
denial out — the vault-k8s habit of comparing operation and path."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from strongroom_webhook import mutating, reviews
from tests.webhook.conftest import NAMESPACE, WEBHOOK_NAMESPACE, pod, review

SIDECAR = {
    "name": "strongroom-sidecar",
    "image": "strongroom/sidecar:test",
    "restartPolicy": "Always",
}
BASIC = [
    ("add", "/spec/containers/0/env"),
    ("add", "/spec/volumes"),
    ("add", "/spec/initContainers"),
]


@dataclasses.dataclass
class Case:
    id: str
    pod: dict[str, Any]
    operations: list[tuple[str, str]] | None = None
    """Expected (op, path) in order; ``None`` when a denial is expected."""
    denied: tuple[str, ...] = ()
    """Fragments the denial message contains."""
    namespace: str = NAMESPACE


CASES = [
    Case("pod without the annotation passes unchanged", pod(inject=False), []),
    Case(
        "inject false passes unchanged",
        pod(annotations={"strongroom.dev/inject": "false"}),
        [],
    ),
    Case("annotated pod gets env, volumes and the sidecar", pod(), BASIC),
    Case(
        "inject value is case-insensitive",
        pod(annotations={"strongroom.dev/inject": "True"}),
        BASIC,
    ),
    Case(
        "existing env and volumes are appended to, the URL first",
        pod(
            containers=[{"name": "app", "image": "a", "env": [{"name": "X", "value": "1"}]}],
            volumes=[{"name": "data", "emptyDir": {}}],
        ),
        [
            ("add", "/spec/containers/0/env/0"),
            ("add", "/spec/volumes/-"),
            ("add", "/spec/volumes/-"),
            ("add", "/spec/initContainers"),
        ],
    ),
    Case(
        "several containers and init containers: every one gets the URL, sidecar goes first",
        pod(
            containers=[{"name": "app", "image": "a"}, {"name": "worker", "image": "w"}],
            init_containers=[{"name": "migrate", "image": "m", "env": []}],
        ),
        [
            ("add", "/spec/containers/0/env"),
            ("add", "/spec/containers/1/env"),
            ("add", "/spec/initContainers/0/env/0"),
            ("add", "/spec/volumes"),
            ("add", "/spec/initContainers/0"),
        ],
    ),
    Case(
        "a user-set STRONGROOM_URL is kept",
        pod(
            containers=[
                {"name": "app", "image": "a"},
                {"name": "custom", "image": "c", "env": [{"name": "STRONGROOM_URL", "value": "x"}]},
            ]
        ),
        BASIC,
    ),
    Case(
        "a Job's pod gets the native sidecar like any other",
        pod(restartPolicy="Never"),
        BASIC,
    ),
    Case("a pod already carrying the sidecar is not patched", pod(init_containers=[SIDECAR]), []),
    Case(
        "a pod carrying the sidecar is not patched whatever the annotations say",
        pod(init_containers=[SIDECAR], annotations={"strongroom.dev/inject": "false"}),
        [],
    ),
    Case(
        "resource overrides are accepted",
        pod(
            annotations={
                "strongroom.dev/sidecar-cpu-request": "50m",
                "strongroom.dev/sidecar-memory-limit": "256Mi",
                "strongroom.dev/sidecar-cpu-limit": "1",
            }
        ),
        BASIC,
    ),
    Case(
        "unknown App is denied",
        pod(annotations={"strongroom.dev/app": "nosuch"}),
        denied=("App 'nosuch' does not exist in namespace 'team-a'", "strongroom.dev/app"),
    ),
    Case(
        "a ServiceAccount the App does not allow is denied, naming both",
        pod(service_account="intruder"),
        denied=("ServiceAccount 'intruder'", "App 'shop'", "shop, shop-batch"),
    ),
    Case(
        "the default ServiceAccount is checked too",
        pod(service_account=""),
        denied=("ServiceAccount 'default'", "App 'shop'"),
    ),
    Case("hostNetwork is denied", pod(hostNetwork=True), denied=("spec.hostNetwork",)),
    Case(
        "shareProcessNamespace is denied",
        pod(shareProcessNamespace=True),
        denied=("spec.shareProcessNamespace",),
    ),
    Case(
        "kube-system is a system namespace",
        pod(),
        denied=("'kube-system' is a system namespace",),
        namespace="kube-system",
    ),
    Case(
        "kube-node-lease is a system namespace",
        pod(),
        denied=("'kube-node-lease' is a system namespace",),
        namespace="kube-node-lease",
    ),
    Case(
        "the webhook's own namespace is never injected",
        pod(),
        denied=(f"{WEBHOOK_NAMESPACE!r} is a system namespace",),
        namespace=WEBHOOK_NAMESPACE,
    ),
    Case(
        "a missing App annotation is denied, naming it",
        pod(inject=False, annotations={"strongroom.dev/inject": "true"}),
        denied=("strongroom.dev/app: missing",),
    ),
    Case(
        "an invalid App name is denied",
        pod(annotations={"strongroom.dev/app": "Not_A_Name"}),
        denied=("strongroom.dev/app", "not a valid App name"),
    ),
    Case(
        "an inject value that is not a boolean is denied, naming the annotation",
        pod(annotations={"strongroom.dev/inject": "yes please"}),
        denied=("strongroom.dev/inject", "'yes please'"),
    ),
    Case(
        "a bad resource override is denied, naming the annotation",
        pod(annotations={"strongroom.dev/sidecar-memory-limit": "lots"}),
        denied=("strongroom.dev/sidecar-memory-limit", "'lots' is not a Kubernetes quantity"),
    ),
    Case(
        "a request above its limit is denied",
        pod(annotations={"strongroom.dev/sidecar-memory-request": "1Gi"}),
        denied=("strongroom.dev/sidecar-memory-request: 1Gi is more than the limit 128Mi",),
    ),
    Case(
        "an app container on the sidecar's port is denied",
        pod(containers=[{"name": "app", "image": "a", "ports": [{"containerPort": 15080}]}]),
        denied=("container 'app' uses port 15080",),
    ),
    Case(
        "a volume named like the sidecar's is denied",
        pod(volumes=[{"name": "strongroom-token", "emptyDir": {}}]),
        denied=("'strongroom-token' is reserved",),
    ),
    Case(
        "a pod carrying the sidecar with hostNetwork is still denied",
        pod(init_containers=[SIDECAR], hostNetwork=True),
        denied=("spec.hostNetwork",),
    ),
    Case(
        "a pod carrying the sidecar for an unknown App is denied",
        pod(init_containers=[SIDECAR], annotations={"strongroom.dev/app": "other"}),
        denied=("App 'other' does not exist",),
    ),
    Case(
        "a pod carrying the sidecar but naming no App is denied",
        pod(init_containers=[SIDECAR], inject=False),
        denied=("names no App",),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_review_gives_the_expected_patch_or_denial(
    mutator: mutating.Mutator, case: Case
) -> None:
    answer = await mutator.admit(review(case.pod, namespace=case.namespace))
    response = answer["response"]
    assert response["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002"
    if case.operations is None:
        assert response["allowed"] is False
        message = response["status"]["message"]
        assert message.startswith("Strongroom sidecar injection refused: ")
        for fragment in case.denied:
            assert fragment in message
        assert "patch" not in response
        return
    assert response["allowed"] is True, response.get("status")
    operations = [(o["op"], o["path"]) for o in reviews.decoded_patch(answer)]
    assert operations == case.operations
    if not case.operations:
        assert "patch" not in response
        assert "patchType" not in response


@pytest.mark.parametrize(
    ("kind", "operation"), [("Pod", "UPDATE"), ("Pod", "DELETE"), ("Deployment", "CREATE")]
)
async def test_anything_but_a_pod_creation_passes_unchanged(
    mutator: mutating.Mutator, kind: str, operation: str
) -> None:
    answer = await mutator.admit(review(pod(), kind=kind, operation=operation))
    assert answer["response"]["allowed"] is True
    assert "patch" not in answer["response"]


async def test_old_kubernetes_is_denied_with_the_version_named(
    mutator: mutating.Mutator,
) -> None:
    old = mutating.Mutator(mutator.settings, mutator.apps, lambda: (1, 28))
    answer = await old.admit(review(pod()))
    message = answer["response"]["status"]["message"]
    assert answer["response"]["allowed"] is False
    assert "Kubernetes 1.28 is too old" in message
    assert "1.29" in message


async def test_unknown_kubernetes_version_is_denied_with_retry_advice(
    mutator: mutating.Mutator,
) -> None:
    unknown = mutating.Mutator(mutator.settings, mutator.apps, lambda: None)
    answer = await unknown.admit(review(pod()))
    assert answer["response"]["allowed"] is False
    assert "version is not known yet" in answer["response"]["status"]["message"]


async def test_old_kubernetes_does_not_block_pods_that_do_not_ask(
    mutator: mutating.Mutator,
) -> None:
    old = mutating.Mutator(mutator.settings, mutator.apps, lambda: (1, 27))
    answer = await old.admit(review(pod(inject=False)))
    assert answer["response"]["allowed"] is True
