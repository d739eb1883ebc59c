"""Grant read and compare-and-swap write-back over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom_core import protocol
from strongroom_core.storage import records
from tests.controlplane import harness as h

GRANT_URL = "/v1/apps/team-a/shop/grants/g1"


async def stored_grant(harness: h.Harness) -> records.GrantRecord:
    return await harness.storage.create_grant(h.make_grant())


async def put(
    harness: h.Harness, body: Any, headers: dict[str, str] = h.SIDECAR, path: str = GRANT_URL
) -> tuple[int, dict[str, Any]]:
    kwargs: dict[str, Any] = {"data": body} if isinstance(body, bytes | str) else {"json": body}
    async with harness.client.put(f"{harness.url}{path}", headers=headers, **kwargs) as response:
        if response.status == 200:
            return response.status, await response.json()
        return response.status, await h.problem_of(response)


def write_back(record: records.GrantRecord, **changes: Any) -> dict[str, Any]:
    wire: dict[str, Any] = dict(protocol.grant_to_wire(record))
    wire.update(changes)
    return {"grant": wire, "expectedVersion": record.version}


async def test_the_apps_sidecar_reads_a_grant(harness: h.Harness) -> None:
    record = await stored_grant(harness)
    async with harness.client.get(f"{harness.url}{GRANT_URL}", headers=h.SIDECAR) as response:
        assert response.status == 200
        assert await response.json() == {"grant": protocol.grant_to_wire(record)}


async def test_a_missing_grant_and_a_grant_of_another_app_are_not_found(
    harness: h.Harness,
) -> None:
    await harness.storage.create_grant(h.make_grant("blog-grant", app="blog"))
    for name in ("absent", "blog-grant"):
        async with harness.client.get(
            f"{harness.url}/v1/apps/team-a/shop/grants/{name}", headers=h.SIDECAR
        ) as response:
            assert response.status == 404
            assert (await h.problem_of(response))["code"] == "not_found"


async def test_another_apps_sidecar_may_not_read_a_grant(harness: h.Harness) -> None:
    await stored_grant(harness)
    async with harness.client.get(f"{harness.url}{GRANT_URL}", headers=h.OTHER_SIDECAR) as response:
        assert response.status == 403


async def test_a_write_back_with_the_current_version_is_stored(harness: h.Harness) -> None:
    record = await stored_grant(harness)
    status, body = await put(
        harness,
        write_back(
            record,
            sealed="sr1.kid.n2.c2",
            generation=2,
            tokenExpiresAt=1_900_000_000,
            claimHolder=None,
            state="NeedsReauth",
            message="refresh token revoked",
        ),
    )
    assert status == 200
    assert body["grant"]["version"] == 2
    stored = await harness.storage.get_grant("team-a", "g1")
    assert stored is not None
    assert (stored.sealed, stored.generation, stored.state) == ("sr1.kid.n2.c2", 2, "NeedsReauth")
    assert stored.token_expires_at == 1_900_000_000.0


async def test_a_refresh_claim_is_taken_once_and_the_loser_gets_a_version_conflict(
    harness: h.Harness,
) -> None:
    record = await stored_grant(harness)
    claim = write_back(record, claimHolder="pod-a", claimExpiresAt=2_000_000_000.0)
    assert (await put(harness, claim))[0] == 200
    rival = write_back(record, claimHolder="pod-b", claimExpiresAt=2_000_000_000.0)
    status, problem = await put(harness, rival)
    assert status == 409
    assert problem["code"] == "version_conflict"
    assert "stored version is 2" in problem["detail"]
    stored = await harness.storage.get_grant("team-a", "g1")
    assert stored is not None
    assert stored.claim_holder == "pod-a"


async def test_fields_left_out_keep_their_stored_values(harness: h.Harness) -> None:
    record = await stored_grant(harness)
    body = write_back(record, sealed="new-blob")
    for optional in ("state", "message", "scopes", "tokenExpiresAt", "claimHolder"):
        del body["grant"][optional]
    assert (await put(harness, body))[0] == 200
    stored = await harness.storage.get_grant("team-a", "g1")
    assert stored is not None
    assert (stored.sealed, stored.scopes, stored.state) == ("new-blob", ("repo",), "Ready")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("uid", "another-uid"),
        ("provider", "slack"),
        ("principal", {"kind": "user", "id": "mallory"}),
        ("app", "blog"),
        ("namespace", "team-b"),
        ("name", "g2"),
        ("scopes", ["repo", "admin:org"]),
        ("grantExpiresAt", 1.0),
        ("sourceDigest", "forged"),
    ],
)
async def test_a_change_to_a_field_the_sidecar_does_not_own_is_refused_naming_it(
    harness: h.Harness, field: str, value: Any
) -> None:
    record = await stored_grant(harness)
    status, problem = await put(harness, write_back(record, **{field: value}))
    assert status == 422
    assert problem["code"] == "immutable_field"
    assert problem["detail"].startswith(f"grant.{field}:")
    assert await harness.storage.get_grant("team-a", "g1") == record


async def test_malformed_json_is_refused_naming_the_body(harness: h.Harness) -> None:
    await stored_grant(harness)
    status, problem = await put(harness, b'{"grant": ')
    assert status == 400
    assert problem["code"] == "invalid_request"
    assert problem["detail"].startswith("body: not valid JSON")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"expectedVersion": None}, "expectedVersion"),
        ({"expectedVersion": "1"}, "expectedVersion"),
        ({"expectedVersion": True}, "expectedVersion"),
        ({"grant": "text"}, "grant"),
        ({"grant.state": "Happy"}, "grant.state"),
        ({"grant.generation": "2"}, "grant.generation"),
        ({"grant.tokenExpiresAt": "soon"}, "grant.tokenExpiresAt"),
        ({"grant.claimHolder": 7}, "grant.claimHolder"),
        ({"grant.sealed": None}, "grant.sealed"),
        ({"grant.principal": {"kind": "user"}}, "grant.principal.id"),
        ({"-grant.uid": None}, "grant.uid"),
    ],
)
async def test_a_malformed_write_back_is_refused_naming_the_field(
    harness: h.Harness, change: dict[str, Any], field: str
) -> None:
    record = await stored_grant(harness)
    body = write_back(record)
    for key, value in change.items():
        if key.startswith("-grant."):
            del body["grant"][key.removeprefix("-grant.")]
        elif key.startswith("grant."):
            body["grant"][key.removeprefix("grant.")] = value
        elif value is None:
            del body[key]
        else:
            body[key] = value
    status, problem = await put(harness, body)
    assert status == 400
    assert problem["code"] == "invalid_request"
    assert problem["detail"].startswith(f"{field}:")


async def test_a_body_that_is_not_an_object_is_refused(harness: h.Harness) -> None:
    await stored_grant(harness)
    status, problem = await put(harness, [1, 2])
    assert status == 400
    assert problem["detail"].startswith("body:")


async def test_a_write_back_to_a_missing_grant_is_not_found(harness: h.Harness) -> None:
    record = h.make_grant()
    body = {"grant": dict(protocol.grant_to_wire(record)), "expectedVersion": 1}
    status, problem = await put(harness, body)
    assert status == 404
    assert problem["code"] == "not_found"


async def test_another_apps_sidecar_may_not_write_back(harness: h.Harness) -> None:
    record = await stored_grant(harness)
    status, problem = await put(harness, write_back(record), headers=h.OTHER_SIDECAR)
    assert status == 403
    assert problem["code"] == "forbidden"


async def test_an_oversized_body_is_refused(harness: h.Harness) -> None:
    record = await stored_grant(harness)
    huge = "x" * (harness.control_plane.settings.max_body_bytes + 1)
    status, problem = await put(harness, write_back(record, sealed=huge))
    assert status == 413
    assert problem["code"] == "payload_too_large"
