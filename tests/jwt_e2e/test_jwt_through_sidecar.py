"""JWT identity end to end: tokens signed here, verified by the real sidecar against a JWKS
served over HTTP, grants resolved for the end user, and what audit says about it."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from strongroom_cli.devmode import environment
from tests import canary
from tests.core.identity import factories
from tests.jwt_e2e import devworld, jwks_server


def claims(**overrides: Any) -> dict[str, Any]:
    now = time.time()
    body: dict[str, Any] = {
        "iss": jwks_server.ISSUER,
        "aud": jwks_server.AUDIENCE,
        "sub": "alice",
        "iat": int(now) - 60,
        "nbf": int(now) - 60,
        "exp": int(now) + 600,
        "groups": [],
    }
    for name, value in overrides.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def as_user(token: str, **headers: str) -> dict[str, str]:
    return {"Strongroom-User-Token": token, **headers}


async def test_the_users_own_grant_beats_a_group_grant_and_audit_names_the_user(
    jwt_env: environment.DevEnvironment, signer: factories.Signer
) -> None:
    token = signer.token(claims(sub="alice", groups=["staff"]))
    reply = await devworld.call(jwt_env, as_user(token, **{"Strongroom-Provider": "echo"}))
    assert reply.status == 200, reply
    assert reply.body["credential_ok"] is True
    event = await devworld.audit_event(jwt_env, reply.audit_id)
    assert (event["grant"], event["principal"], event["decision"]) == (
        "alice-echo",
        "user:alice",
        "allow",
    )
    assert "user grant 'alice-echo'" in event["reason"]
    assert canary.found_in(json.dumps(event)) == []


async def test_a_member_without_a_user_grant_gets_the_group_grant(
    jwt_env: environment.DevEnvironment, signer: factories.Signer
) -> None:
    token = signer.token(claims(sub="bob", groups=["staff"]))
    reply = await devworld.call(jwt_env, as_user(token, **{"Strongroom-Provider": "echo"}))
    assert reply.status == 200, reply
    event = await devworld.audit_event(jwt_env, reply.audit_id)
    assert (event["grant"], event["principal"]) == ("staff-echo", "user:bob")


async def test_two_group_grants_at_the_same_level_are_ambiguous_never_a_guess(
    jwt_env: environment.DevEnvironment, signer: factories.Signer
) -> None:
    token = signer.token(claims(sub="carol", groups=["staff", "ops"]))
    reply = await devworld.call(jwt_env, as_user(token, **{"Strongroom-Provider": "echo"}))
    assert (reply.status, reply.code) == (409, "ambiguous_grant")
    assert "ops-echo" in reply.body["detail"]
    assert "staff-echo" in reply.body["detail"]


async def test_a_user_without_any_grant_for_the_provider_is_not_found(
    jwt_env: environment.DevEnvironment, signer: factories.Signer
) -> None:
    token = signer.token(claims(sub="dave"))
    reply = await devworld.call(jwt_env, as_user(token, **{"Strongroom-Provider": "echo"}))
    assert (reply.status, reply.code) == (404, "grant_not_found")


async def test_an_explicit_user_grant_needs_that_users_token(
    jwt_env: environment.DevEnvironment, signer: factories.Signer
) -> None:
    named = {"Strongroom-Grant": "alice-echo"}
    without = await devworld.call(jwt_env, named)
    assert (without.status, without.code) == (401, "principal_token_required")
    bob = await devworld.call(jwt_env, as_user(signer.token(claims(sub="bob")), **named))
    assert (bob.status, bob.code) == (403, "principal_mismatch")
    denied = await devworld.audit_event(jwt_env, bob.audit_id)
    assert denied["decision"] == "deny"
    assert denied["reason"].startswith("principal_mismatch: ")
    alice = await devworld.call(jwt_env, as_user(signer.token(claims(sub="alice")), **named))
    assert alice.status == 200, alice
    event = await devworld.audit_event(jwt_env, alice.audit_id)
    assert event["principal"] == "user:alice"


async def test_an_explicit_group_grant_needs_a_members_token(
    jwt_env: environment.DevEnvironment, signer: factories.Signer
) -> None:
    named = {"Strongroom-Grant": "staff-echo"}
    outsider = signer.token(claims(sub="eve", groups=["ops"]))
    assert (await devworld.call(jwt_env, as_user(outsider, **named))).code == "principal_mismatch"
    member = signer.token(claims(sub="bob", groups=["staff"]))
    assert (await devworld.call(jwt_env, as_user(member, **named))).status == 200


def _tampered(token: str) -> str:
    head, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["sub"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    canary.register(f"{head}.{forged}.{signature}")
    return f"{head}.{forged}.{signature}"


Attack = tuple[Callable[[factories.Signer], str], str]

ATTACKS: dict[str, Attack] = {
    "alg_none": (
        lambda s: factories.unsigned_token(claims(), alg="none"),
        "algorithm_not_allowed",
    ),
    "hs256_with_the_rsa_public_key": (
        lambda s: factories.hs256_token(s.public_pem(), claims(), s.kid),
        "algorithm_not_allowed",
    ),
    "expired": (lambda s: s.token(claims(exp=int(time.time()) - 300)), "token_expired"),
    "not_yet_valid": (
        lambda s: s.token(claims(nbf=int(time.time()) + 600)),
        "token_not_yet_valid",
    ),
    "wrong_issuer": (lambda s: s.token(claims(iss="https://evil.example.com")), "wrong_issuer"),
    "wrong_audience": (lambda s: s.token(claims(aud="another-api")), "wrong_audience"),
    "unknown_key_id": (
        lambda s: factories.Signer.new("RS256", kid="not-published", rsa_index=1).token(claims()),
        "unknown_key",
    ),
    "tampered_payload": (lambda s: _tampered(s.token(claims())), "bad_signature"),
    "signed_by_another_key_under_the_known_kid": (
        lambda s: factories.Signer.new("RS256", kid=s.kid, rsa_index=1).token(claims()),
        "bad_signature",
    ),
    "not_a_jwt": (lambda s: canary.new("opaque-token"), "malformed_token"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_jwt_attacks_are_rejected_with_stable_codes_and_audited(
    jwt_env: environment.DevEnvironment, signer: factories.Signer, attack: str
) -> None:
    make, code = ATTACKS[attack]
    token = make(signer)
    reply = await devworld.call(jwt_env, as_user(token, **{"Strongroom-Provider": "echo"}))
    assert (reply.status, reply.code) == (401, code), reply
    assert reply.body["code"] == code
    assert token not in json.dumps(reply.body)
    event = await devworld.audit_event(jwt_env, reply.audit_id)
    assert (event["decision"], event["status"]) == ("deny", 401)
    assert event["reason"].startswith(f"{code}: ")
    assert canary.found_in(json.dumps(event)) == []


async def test_a_key_rotated_at_the_provider_is_accepted_after_a_refetch(
    jwt_env: environment.DevEnvironment,
    signer: factories.Signer,
    jwks: jwks_server.JwksServer,
) -> None:
    first = await devworld.call(
        jwt_env, as_user(signer.token(claims()), **{"Strongroom-Provider": "echo"})
    )
    assert first.status == 200, first
    fetched = jwks.fetches
    rotated = factories.Signer.new("RS256", kid="key-two", rsa_index=1)
    jwks.rotate(rotated)
    reply = await devworld.call(
        jwt_env, as_user(rotated.token(claims()), **{"Strongroom-Provider": "echo"})
    )
    assert reply.status == 200, reply
    assert jwks.fetches == fetched + 1
    # The old key is gone from the provider: once the sidecar has refetched, it no longer counts.
    old = await devworld.call(
        jwt_env, as_user(signer.token(claims(sub="bob")), **{"Strongroom-Provider": "echo"})
    )
    assert (old.status, old.code) == (401, "unknown_key")


async def test_a_token_sent_with_a_system_grant_is_still_verified(
    jwt_env: environment.DevEnvironment,
) -> None:
    token = factories.unsigned_token(claims(), alg="none")
    reply = await devworld.call(jwt_env, as_user(token, **{"Strongroom-Grant": "echo-demo"}))
    assert (reply.status, reply.code) == (401, "algorithm_not_allowed")


async def test_the_identity_provider_unreachable_is_jwks_unavailable_with_retry_after(
    jwt_env: environment.DevEnvironment,
    signer: factories.Signer,
    jwks: jwks_server.JwksServer,
) -> None:
    await jwks.stop()
    reply = await devworld.call(
        jwt_env, as_user(signer.token(claims()), **{"Strongroom-Provider": "echo"})
    )
    assert (reply.status, reply.code) == (503, "jwks_unavailable")
    assert reply.headers.get("Retry-After") == "5"
