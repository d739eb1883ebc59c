"""Malformed reviews never crash the webhook: a body that is no AdmissionReview is a 400 with a
reason; a review with a uid but anything else wrong is a denial naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom_webhook import apps, mutating, reviews
from tests.webhook.conftest import make_settings, pod, review

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
POD_KEYS = st.sampled_from(
    [
        "metadata",
        "spec",
        "annotations",
        "containers",
        "initContainers",
        "env",
        "name",
        "ports",
        "volumes",
        "hostNetwork",
        "serviceAccountName",
        "restartPolicy",
        "containerPort",
        "strongroom.dev/inject",
        "strongroom.dev/app",
    ]
)


def static_mutator() -> mutating.Mutator:
    source = apps.StaticApps({("team-a", "shop"): ("shop",)})
    return mutating.Mutator(make_settings(), source, lambda: (1, 31))


def assert_answered(answer: reviews.AdmissionReview) -> None:
    response = answer["response"]
    assert isinstance(response["allowed"], bool)
    assert isinstance(response["uid"], str)
    if not response["allowed"]:
        message = response["status"]["message"]
        assert message.startswith("Strongroom sidecar injection refused")
        assert "internal error" not in message, message


async def admit_or_400(body: bytes) -> None:
    refusal = ""
    try:
        answer = await static_mutator().admit(body)
    except reviews.NotAReview as e:
        refusal = str(e)
    if refusal:
        return  # answered with HTTP 400 and this reason
    assert_answered(answer)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
async def test_any_json_body_is_answered_or_refused_as_not_a_review(body: Any) -> None:
    await admit_or_400(json.dumps(body).encode())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
async def test_any_bytes_are_answered_or_refused_as_not_a_review(body: bytes) -> None:
    await admit_or_400(body)


def _replace(document: Any, path: list[Any], value: Any) -> Any:
    """``document`` with the value at (the reachable prefix of) ``path`` replaced."""
    if not path or not isinstance(document, (dict, list)) or not document:
        return value
    if isinstance(document, dict):
        key = path[0] if isinstance(path[0], str) else sorted(document)[0]
        copy = dict(document)
        copy[key] = _replace(document.get(key), path[1:], value)
        return copy
    index = path[0] % len(document) if isinstance(path[0], int) else 0
    copy_list = list(document)
    copy_list[index] = _replace(document[index], path[1:], value)
    return copy_list


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(POD_KEYS | st.integers(min_value=0, max_value=3), min_size=1, max_size=6),
    JSON,
)
async def test_a_valid_review_with_any_field_broken_is_answered(
    path: list[Any], value: Any
) -> None:
    body = json.loads(
        review(
            pod(
                containers=[{"name": "app", "image": "a", "env": [{"name": "A", "value": "1"}]}],
                init_containers=[{"name": "init", "image": "i", "ports": [{"containerPort": 1}]}],
                volumes=[{"name": "data", "emptyDir": {}}],
            )
        )
    )
    broken = _replace(body, ["request", "object", *path], value)
    await admit_or_400(json.dumps(broken).encode())


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"}', "only"),
        (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}', "request"),
        (
            b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}}',
            "request.uid",
        ),
    ],
)
async def test_non_reviews_are_refused_with_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(reviews.NotAReview, match=reason):
        await static_mutator().admit(body)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"kind": "Pod"}, "request.kind.kind"),
        ({"operation": 7}, "request.operation"),
        ({"object": []}, "request.object"),
    ],
)
async def test_reviews_with_a_uid_but_bad_fields_are_denied_naming_the_field(
    change: dict[str, Any], named: str
) -> None:
    body = json.loads(review(pod()))
    body["request"].update(change)
    answer = await static_mutator().admit(json.dumps(body).encode())
    assert answer["response"]["allowed"] is False
    assert answer["response"]["uid"] == body["request"]["uid"]
    assert named in answer["response"]["status"]["message"]


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ({"containers": {"name": "x"}}, "spec.containers: not a list"),
        ({"containers": [{"image": "x"}]}, "spec.containers[0].name"),
        ({"containers": [{"name": "a", "env": [1]}]}, "spec.containers[0].env[0].name"),
        ({"hostNetwork": "yes"}, "spec.hostNetwork"),
        ({"volumes": [{}]}, "spec.volumes[0].name"),
    ],
)
async def test_malformed_pods_are_denied_naming_the_field(spec: dict[str, Any], named: str) -> None:
    body = pod()
    body["spec"].update(spec)
    answer = await static_mutator().admit(review(body))
    assert answer["response"]["allowed"] is False
    assert named in answer["response"]["status"]["message"]
