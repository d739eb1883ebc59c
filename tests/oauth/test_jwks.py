"""The JWKS is served, and a signing key rotated at runtime appears in it and signs from then on."""

from __future__ import annotations

import httpx
import pytest

from tests.support import jwts
from tests.support import oauth_server as oauth_server_module


def test_the_jwks_serves_rs256_and_es256_public_keys(
    oauth_server: oauth_server_module.OAuthServer,
) -> None:
    keys = httpx.get(oauth_server.jwks_url).json()["keys"]

    assert sorted(key["alg"] for key in keys) == ["ES256", "RS256"]
    assert all("d" not in key for key in keys), "the JWKS must hold public keys only"
    discovery = httpx.get(oauth_server.discovery_url).json()
    assert discovery["jwks_uri"] == oauth_server.jwks_url
    assert discovery["token_endpoint"] == oauth_server.token_url


def test_a_rotated_key_is_published_and_signs_new_tokens(
    oauth_server: oauth_server_module.OAuthServer,
) -> None:
    before = oauth_server.client_credentials()["access_token"]
    old_kid = jwts.header(before)["kid"]
    stale_jwks = httpx.get(oauth_server.jwks_url).json()

    published = oauth_server.rotate_signing_key()
    after = oauth_server.client_credentials()["access_token"]

    new_kid = jwts.header(after)["kid"]
    assert new_kid != old_kid
    assert new_kid in published
    assert old_kid in published
    issuer, audience = oauth_server.issuer, oauth_server.audience
    with pytest.raises(jwts.InvalidToken, match="unknown key id"):
        jwts.verify(after, stale_jwks, issuer=issuer, audience=audience)
    fresh_jwks = httpx.get(oauth_server.jwks_url).json()
    jwts.verify(after, fresh_jwks, issuer=issuer, audience=audience)
    jwts.verify(before, fresh_jwks, issuer=issuer, audience=audience)
    assert oauth_server.counters()["key_rotations"] == 1


def test_a_rotation_can_withdraw_the_old_keys(
    oauth_server: oauth_server_module.OAuthServer,
) -> None:
    old = oauth_server.signing_key_ids()

    published = oauth_server.rotate_signing_key(keep_old=False)

    served = [key["kid"] for key in httpx.get(oauth_server.jwks_url).json()["keys"]]
    assert served == published
    assert not set(old) & set(published)
