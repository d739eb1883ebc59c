"""Lists with selectors, and watches: from a resourceVersion without loss, 410 when compacted,
timeoutSeconds, bookmarks, selector entry and exit."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.kube import apiclient, emulator, errors, patching

SECRETS = "/api/v1/namespaces/default/secrets"


async def take(events: AsyncIterator[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        taken: list[dict[str, Any]] = []
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for event in events:
                taken.append(event)
                if len(taken) == count:
                    break
        return taken

    return await asyncio.wait_for(run(), 20)


async def names(raw: apiclient.Raw, **params: str) -> list[str]:
    status, body = await raw.call("GET", SECRETS, params=params)
    assert status == 200, body
    return [item["metadata"]["name"] for item in body["items"]]


async def test_label_selectors_support_every_operator(raw: apiclient.Raw) -> None:
    await raw.call("POST", SECRETS, apiclient.secret("a", {"tier": "gold", "app": "shop"}))
    await raw.call("POST", SECRETS, apiclient.secret("b", {"tier": "silver"}))
    await raw.call("POST", SECRETS, apiclient.secret("c"))
    assert await names(raw, labelSelector="tier=gold") == ["a"]
    assert await names(raw, labelSelector="tier==gold") == ["a"]
    assert await names(raw, labelSelector="tier!=gold") == ["b", "c"]
    assert await names(raw, labelSelector="tier in (gold,silver)") == ["a", "b"]
    assert await names(raw, labelSelector="tier notin (gold)") == ["b", "c"]
    assert await names(raw, labelSelector="tier") == ["a", "b"]
    assert await names(raw, labelSelector="!tier") == ["c"]
    assert await names(raw, labelSelector="tier,app=shop") == ["a"]


async def test_field_selectors_on_name_and_namespace(raw: apiclient.Raw) -> None:
    await raw.call("POST", SECRETS, apiclient.secret("a"))
    await raw.call("POST", "/api/v1/namespaces/kube-system/secrets", apiclient.secret("a"))
    await raw.call("POST", SECRETS, apiclient.secret("b"))
    assert await names(raw, fieldSelector="metadata.name=a") == ["a"]
    assert await names(raw, fieldSelector="metadata.name!=a") == ["b"]
    _status, body = await raw.call(
        "GET", "/api/v1/secrets", params={"fieldSelector": "metadata.namespace=kube-system"}
    )
    assert [i["metadata"]["namespace"] for i in body["items"]] == ["kube-system"]


async def test_an_unsupported_field_selector_is_400(raw: apiclient.Raw) -> None:
    status, body = await raw.call("GET", SECRETS, params={"fieldSelector": "spec.x=1"})
    assert (status, body["reason"]) == (400, "BadRequest")
    assert "spec.x" in body["message"]


async def test_a_list_carries_the_current_resource_version(raw: apiclient.Raw) -> None:
    _, created = await raw.call("POST", SECRETS, apiclient.secret("a"))
    _, listed = await raw.call("GET", SECRETS)
    assert listed["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert listed["kind"] == "SecretList"


async def test_watch_from_a_list_loses_nothing_under_concurrent_writers(
    raw: apiclient.Raw, kube: emulator.KubeEmulator
) -> None:
    _, listed = await raw.call("GET", SECRETS)
    since = listed["metadata"]["resourceVersion"]

    async def writer(prefix: str) -> None:
        for n in range(40):
            await raw.call("POST", SECRETS, apiclient.secret(f"{prefix}-{n}"))
            await asyncio.sleep(0)

    # Writes start before the watch does: those committed in between must come too.
    writers = asyncio.gather(*(writer(p) for p in ("a", "b", "c")))
    await asyncio.sleep(0.01)
    seen = await take(raw.watch(SECRETS, resourceVersion=since), 120)
    await writers
    revisions = [int(e["object"]["metadata"]["resourceVersion"]) for e in seen]
    assert revisions == sorted(set(revisions))
    assert {e["type"] for e in seen} == {"ADDED"}
    assert len({e["object"]["metadata"]["name"] for e in seen}) == 120


async def test_watch_without_a_version_starts_with_the_current_objects(
    raw: apiclient.Raw,
) -> None:
    await raw.call("POST", SECRETS, apiclient.secret("a"))
    events = raw.watch(SECRETS)
    first = await take(events, 1)
    assert (first[0]["type"], first[0]["object"]["metadata"]["name"]) == ("ADDED", "a")


async def test_a_compacted_resource_version_is_410_gone_in_the_stream_and_the_list(
    raw: apiclient.Raw, kube: emulator.KubeEmulator
) -> None:
    _, created = await raw.call("POST", SECRETS, apiclient.secret("a"))
    old = created["metadata"]["resourceVersion"]
    await raw.call("POST", SECRETS, apiclient.secret("b"))
    kube.compact()
    event = (await take(raw.watch(SECRETS, resourceVersion=old), 1))[0]
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410
    status, _ = await raw.call(
        "GET", SECRETS, params={"resourceVersion": old, "resourceVersionMatch": "Exact"}
    )
    assert status == 410


async def test_the_log_keeps_only_its_history(raw: apiclient.Raw) -> None:
    async with emulator.KubeEmulator.start(history=5, crds=None) as small:
        small.create(
            {**apiclient.secret("first"), "metadata": {"name": "first", "namespace": "default"}}
        )
        rv = small.get("secrets", "first", "default")["metadata"]["resourceVersion"]  # type: ignore[index]
        for n in range(10):
            small.create_namespace(f"ns-{n}")
        with pytest.raises(errors.ApiError, match="too old"):
            small.store.events_after(int(rv))


async def test_timeout_seconds_ends_the_stream_with_a_bookmark(raw: apiclient.Raw) -> None:
    events = [
        e
        async for e in raw.watch(
            SECRETS, resourceVersion="1", timeoutSeconds="1", allowWatchBookmarks="true"
        )
    ]
    assert events
    assert events[-1]["type"] == "BOOKMARK"
    assert int(events[-1]["object"]["metadata"]["resourceVersion"]) >= 1


async def test_send_initial_events_ends_with_the_marking_bookmark(raw: apiclient.Raw) -> None:
    await raw.call("POST", SECRETS, apiclient.secret("a"))
    seen = await take(
        raw.watch(
            SECRETS,
            sendInitialEvents="true",
            allowWatchBookmarks="true",
            resourceVersionMatch="NotOlderThan",
        ),
        2,
    )
    assert [e["type"] for e in seen] == ["ADDED", "BOOKMARK"]
    annotations = seen[1]["object"]["metadata"]["annotations"]
    assert annotations == {"k8s.io/initial-events-end": "true"}


async def test_an_object_leaving_a_selector_is_deleted_for_its_watchers(
    raw: apiclient.Raw,
) -> None:
    _, created = await raw.call("POST", SECRETS, apiclient.secret("a", {"app": "shop"}))
    rv = created["metadata"]["resourceVersion"]
    moved = {"metadata": {"labels": {"app": "blog"}}}
    await raw.call("PATCH", f"{SECRETS}/a", moved, content_type=patching.MERGE)
    back = {"metadata": {"labels": {"app": "shop"}}}
    await raw.call("PATCH", f"{SECRETS}/a", back, content_type=patching.MERGE)
    seen = await take(raw.watch(SECRETS, resourceVersion=rv, labelSelector="app=shop"), 2)
    assert [e["type"] for e in seen] == ["DELETED", "ADDED"]


async def test_a_namespaced_watch_sees_only_its_namespace(raw: apiclient.Raw) -> None:
    await raw.call("POST", "/api/v1/namespaces/kube-system/secrets", apiclient.secret("x"))
    await raw.call("POST", SECRETS, apiclient.secret("a"))
    seen = await take(raw.watch(SECRETS, resourceVersion="1"), 1)
    assert seen[0]["object"]["metadata"]["name"] == "a"
