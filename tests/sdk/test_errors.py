"""Sidecar error codes become typed exceptions; upstream errors stay responses."""

import socket
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

import strongroom

from .conftest import Caller, FakeSidecar, sidecar_error

GITHUB = "https://api.github.com/user"

CODES = [
    (400, "missing_target", strongroom.InvalidRequest),
    (400, "invalid_target", strongroom.InvalidRequest),
    (400, "invalid_header", strongroom.InvalidRequest),
    (400, "grant_unspecified", strongroom.InvalidRequest),
    (403, "host_not_allowed", strongroom.PolicyDenied),
    (403, "insecure_scheme", strongroom.PolicyDenied),
    (403, "userinfo_in_url", strongroom.PolicyDenied),
    (403, "ip_literal_not_allowed", strongroom.PolicyDenied),
    (403, "policy_denied", strongroom.PolicyDenied),
    (403, "agent_suspended", strongroom.PolicyDenied),
    (401, "principal_token_required", strongroom.IdentityRequired),
    (401, "invalid_user_token", strongroom.IdentityRequired),
    (401, "invalid_agent_key", strongroom.IdentityRequired),
    (401, "reauthorization_required", strongroom.ReauthorizationRequired),
    (501, "jwt_identity_not_available", strongroom.IdentityRequired),
    (404, "grant_not_found", strongroom.GrantNotFound),
    (404, "provider_not_found", strongroom.GrantNotFound),
    (409, "ambiguous_grant", strongroom.AmbiguousGrant),
    (410, "grant_revoked", strongroom.GrantRevoked),
    (410, "grant_expired", strongroom.GrantRevoked),
    (500, "credential_unavailable", strongroom.CredentialUnavailable),
    (503, "refresh_unavailable", strongroom.CredentialUnavailable),
    (500, "internal_error", strongroom.SidecarError),
    (502, "upstream_error", strongroom.UpstreamError),
    (504, "upstream_timeout", strongroom.UpstreamError),
    (503, "audit_unavailable", strongroom.AuditUnavailable),
]


@pytest.mark.parametrize(("status", "code", "error_type"), CODES, ids=[c[1] for c in CODES])
async def test_every_sidecar_code_raises_its_type(
    caller: Caller,
    sidecar: FakeSidecar,
    status: int,
    code: str,
    error_type: type[strongroom.SidecarError],
) -> None:
    sidecar.respond = lambda request: sidecar_error(status, code, detail=f"because {code}")
    with pytest.raises(strongroom.SidecarError) as caught:
        await caller.request("GET", GITHUB)
    error = caught.value
    assert type(error) is error_type
    assert error.code == code
    assert error.status == status
    assert error.detail == f"because {code}"
    assert error.title == code.replace("_", " ")
    assert error.audit_id == "audit-err"
    assert error.response is not None
    assert error.response.status_code == status
    assert error.response.json()["code"] == code
    assert str(error) == (
        f"{code} (HTTP {status}) from the Strongroom sidecar: because {code} [audit id audit-err]"
    )


@pytest.mark.parametrize(("status", "code", "error_type"), CODES, ids=[c[1] for c in CODES])
async def test_every_sidecar_code_raises_its_type_from_a_stream_too(
    caller: Caller,
    sidecar: FakeSidecar,
    status: int,
    code: str,
    error_type: type[strongroom.SidecarError],
) -> None:
    sidecar.respond = lambda request: sidecar_error(status, code)
    with pytest.raises(error_type) as caught:
        await caller.stream("GET", GITHUB)
    assert caught.value.code == code
    assert caught.value.response is not None
    assert caught.value.response.is_closed


@pytest.mark.parametrize("code", ["not_ready", "overloaded"])
async def test_a_busy_or_starting_sidecar_is_unavailable(
    caller: Caller, sidecar: FakeSidecar, code: str
) -> None:
    sidecar.respond = lambda request: sidecar_error(503, code, detail="warming up")
    with pytest.raises(strongroom.SidecarUnavailable, match="retry later") as caught:
        await caller.request("GET", GITHUB)
    assert caught.value.code == code
    assert caught.value.status == 503
    assert caught.value.detail == "warming up"
    assert caught.value.response is not None


async def test_an_unknown_code_raises_a_plain_sidecar_error(
    caller: Caller, sidecar: FakeSidecar
) -> None:
    sidecar.respond = lambda request: sidecar_error(429, "some_future_code", detail="slow down")
    with pytest.raises(strongroom.SidecarError) as caught:
        await caller.request("GET", GITHUB)
    assert type(caught.value) is strongroom.SidecarError
    assert caught.value.code == "some_future_code"
    assert caught.value.status == 429


async def test_a_broken_error_body_still_raises_by_the_header_code(
    caller: Caller, sidecar: FakeSidecar
) -> None:
    sidecar.respond = lambda request: httpx.Response(
        403, headers={"Strongroom-Error": "policy_denied"}, content=b"<html>oops"
    )
    with pytest.raises(strongroom.PolicyDenied) as caught:
        await caller.request("GET", GITHUB)
    assert caught.value.detail == ""
    assert str(caught.value) == "policy_denied (HTTP 403) from the Strongroom sidecar: Forbidden"


async def test_a_long_detail_is_truncated(caller: Caller, sidecar: FakeSidecar) -> None:
    sidecar.respond = lambda request: sidecar_error(400, "invalid_header", detail="x" * 5000)
    with pytest.raises(strongroom.InvalidRequest) as caught:
        await caller.request("GET", GITHUB)
    assert len(caught.value.detail) == 500
    assert caught.value.detail.endswith("…")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 502, 503])
async def test_upstream_errors_are_returned_as_responses(
    caller: Caller, sidecar: FakeSidecar, status: int
) -> None:
    sidecar.respond = lambda request: httpx.Response(
        status, headers={"Strongroom-Audit-Id": "a-7"}, json={"message": "Not Found"}
    )
    response = await caller.request("GET", GITHUB)
    assert response.status_code == status
    assert response.json() == {"message": "Not Found"}
    assert response.headers["Strongroom-Audit-Id"] == "a-7"
    with pytest.raises(httpx.HTTPStatusError, match=r"api\.github\.com"):
        response.raise_for_status()


async def test_a_response_reads_like_the_direct_upstream_call(
    caller: Caller, sidecar: FakeSidecar
) -> None:
    response = await caller.request("POST", GITHUB, params={"a": "1"}, json={"x": 1})
    assert response.url == "https://api.github.com/user?a=1"
    assert response.request.method == "POST"
    assert response.request.headers["Host"] == "api.github.com"
    assert response.request.headers["Content-Type"] == "application/json"
    assert not [k for k in response.request.headers if k.lower().startswith("strongroom-")]


class _Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that arrives in several chunks, for either client."""

    def __init__(self, *chunks: bytes) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


async def test_a_stream_yields_the_upstream_body_in_chunks(
    caller: Caller, sidecar: FakeSidecar
) -> None:
    sidecar.respond = lambda request: httpx.Response(200, stream=_Chunks(b"line 1\n", b"line 2\n"))
    response, body = await caller.stream("GET", "https://example.com/export")
    assert response.status_code == 200
    assert body == b"line 1\nline 2\n"
    assert response.is_closed


def _closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_no_sidecar_listening_raises_sidecar_unavailable() -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    with strongroom.App(base) as app, pytest.raises(strongroom.SidecarUnavailable) as caught:
        app.get(GITHUB)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert base in str(caught.value)
    assert "STRONGROOM_URL" in str(caught.value)
    assert caught.value.code is None
    assert caught.value.response is None

    async with strongroom.AsyncApp(base) as async_app:
        with pytest.raises(strongroom.SidecarUnavailable) as caught:
            await async_app.get(GITHUB)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout])
async def test_connect_failures_raise_sidecar_unavailable_chained(
    error: type[httpx.TransportError],
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise error("connection refused", request=request)

    with (
        strongroom.App(transport=httpx.MockTransport(refuse)) as app,
        pytest.raises(strongroom.SidecarUnavailable) as caught,
        app.stream("GET", GITHUB),
    ):
        pass  # pragma: no cover
    assert type(caught.value.__cause__) is error


async def test_read_timeouts_are_httpx_own_exceptions() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with (
        strongroom.App(transport=httpx.MockTransport(slow)) as app,
        pytest.raises(httpx.ReadTimeout),
    ):
        app.get(GITHUB)
