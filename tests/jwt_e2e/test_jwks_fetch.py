"""The sidecar's JWKS fetch: https only (plain http to loopback only where loopback targets are
allowed), no redirects, a size limit, and identity settings it cannot use refused by name."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from strongroom_core.identity import jwks
from strongroom_sidecar import identities, problems, settings

BIG = b'{"keys": [' + b" " * (jwks.MAX_DOCUMENT_BYTES + 10) + b"]}"


def sidecar_settings(*, loopback: bool = True) -> settings.SidecarSettings:
    return settings.SidecarSettings(
        control_plane_url="http://127.0.0.1:1",
        namespace="shop",
        app="billing",
        allow_loopback_targets=loopback,
        jwks_timeout=2.0,
    )


@pytest.fixture
async def idp() -> AsyncIterator[str]:
    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "https://evil.example.com/certs"})

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=BIG, content_type="application/json")

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"keys": []})

    app = web.Application()
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/big", big)
    app.router.add_get("/ok", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.fixture
async def fetcher() -> AsyncIterator[identities.JwksFetcher]:
    fetch = identities.JwksFetcher(sidecar_settings())
    await fetch.open()
    yield fetch
    await fetch.close()


async def test_a_jwks_is_fetched_from_loopback_when_loopback_targets_are_allowed(
    fetcher: identities.JwksFetcher, idp: str
) -> None:
    assert await fetcher(f"{idp}/ok") == b'{"keys": []}'


async def test_a_redirect_is_never_followed(fetcher: identities.JwksFetcher, idp: str) -> None:
    with pytest.raises(identities.FetchError, match="HTTP 302"):
        await fetcher(f"{idp}/redirect")


async def test_a_document_over_the_size_limit_is_refused(
    fetcher: identities.JwksFetcher, idp: str
) -> None:
    with pytest.raises(identities.FetchError, match="more than"):
        await fetcher(f"{idp}/big")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://id.example.com/certs", True),
        ("http://127.0.0.1:9/certs", False),
        ("ftp://id.example.com/certs", True),
    ],
)
def test_only_https_or_allowed_loopback_urls_are_accepted(url: str, loopback: bool) -> None:
    with pytest.raises(identities.FetchError, match=r"identity\.jwksURL"):
        identities.JwksFetcher(sidecar_settings(loopback=loopback)).check_url(url)


async def test_identity_settings_with_a_plain_http_url_refuse_tokens_naming_why() -> None:
    identity = identities.Identity(sidecar_settings(loopback=False))
    wire = {
        "issuer": "https://id.example.com",
        "jwksURL": "http://id.example.com/certs",
        "audiences": ["api"],
        "algorithms": ["RS256"],
        "claims": {"userId": "sub", "groups": "groups"},
    }
    with pytest.raises(problems.Refusal) as info:
        await identity.principal("a.b.c", wire)  # type: ignore[arg-type]
    assert info.value.code == "identity_not_configured"
    assert "identity.jwksURL" in info.value.detail


async def test_a_changed_audience_keeps_the_jwks_cache_and_a_changed_url_does_not() -> None:
    identity = identities.Identity(sidecar_settings())
    wire = {
        "issuer": "https://id.example.com",
        "jwksURL": "http://127.0.0.1:9/certs",
        "audiences": ["api"],
        "algorithms": ["RS256"],
        "claims": {"userId": "sub", "groups": "groups"},
    }
    identity.update(wire)  # type: ignore[arg-type]
    first = identity._current
    assert first is not None
    identity.update({**wire, "audiences": ["other"]})  # type: ignore[arg-type]
    second = identity._current
    assert second is not None
    assert second.verifier is not first.verifier
    assert second.verifier.cache is first.verifier.cache
    identity.update({**wire, "jwksURL": "http://127.0.0.1:10/certs"})  # type: ignore[arg-type]
    third = identity._current
    assert third is not None
    assert third.verifier.cache is not first.verifier.cache
    identity.update(None)
    assert not identity.configured
