"""The error contract: every code has an HTTP status, and the repr shows code and detail only."""

from __future__ import annotations

from strongroom_core.identity import errors


def test_every_code_has_a_status() -> None:
    assert set(errors.STATUS) == errors.CODES
    assert errors.TOKEN_CODES <= errors.CODES
    assert {errors.STATUS[c] for c in errors.TOKEN_CODES} == {401}


def test_an_identity_error_carries_code_detail_and_status() -> None:
    error = errors.IdentityError("ambiguous_grant", "two grants")
    assert (error.code, error.detail, error.status, str(error)) == (
        "ambiguous_grant",
        "two grants",
        409,
        "two grants",
    )
    assert repr(error) == "IdentityError('ambiguous_grant', 'two grants')"
