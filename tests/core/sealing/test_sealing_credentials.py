"""Grant credentials: the shared seal/open used by control plane, operator and sidecar."""

from __future__ import annotations

import dataclasses

import pytest

from strongroom_core.sealing import credentials, envelopes, errors, keys
from tests import canary
from tests.core.sealing import factories


@pytest.fixture
def ring() -> keys.Keyring:
    key = keys.DataKey.generate()
    return keys.Keyring([key], key.kid)


def test_credential_sealed_for_a_record_opens_from_that_record(ring: keys.Keyring) -> None:
    record, credential = factories.sealed_record(ring.active)
    assert credentials.open_grant_credential(ring, record) == credential


def test_seal_grant_credential_from_fields_matches_the_record_binding(ring: keys.Keyring) -> None:
    record = factories.grant_record(principal_kind="agent", principal_id="builder")
    credential = {"access_token": canary.new(), "refresh_token": canary.new()}
    sealed = credentials.seal_grant_credential(
        ring.active,
        namespace=record.namespace,
        grant=record.name,
        grant_uid=record.uid,
        app=record.app,
        provider=record.provider,
        principal_kind="agent",
        principal_id="builder",
        credential=credential,
    )
    opened = credentials.open_grant_credential(ring, dataclasses.replace(record, sealed=sealed))
    assert opened == credential
    assert credentials.binding_for(record).principal == "agent:builder"


@pytest.mark.parametrize(
    "change",
    [
        {"name": "other-grant"},
        {"uid": "recreated-uid"},
        {"provider": "slack"},
        {"app": "other-app"},
        {"namespace": "team-b"},
        {"principal_id": "mallory"},
        {"principal_kind": "group"},
    ],
)
def test_sealed_credential_copied_to_another_grant_record_fails(
    ring: keys.Keyring, change: dict[str, str]
) -> None:
    record, _ = factories.sealed_record(ring.active)
    with pytest.raises(errors.TamperedError):
        credentials.open_grant_credential(ring, dataclasses.replace(record, **change))  # type: ignore[arg-type]


def test_credential_that_is_not_an_object_of_strings_is_refused_without_content(
    ring: keys.Keyring,
) -> None:
    record = factories.grant_record()
    secret = canary.new()
    aad = credentials.binding_for(record).associated_data()
    sealed = envelopes.seal(ring.active, f'["{secret}"]'.encode(), aad)
    with pytest.raises(errors.SealingError, match="JSON object of string fields") as caught:
        credentials.open_grant_credential(ring, dataclasses.replace(record, sealed=sealed))
    assert secret not in str(caught.value)


def test_sealing_a_non_string_field_is_refused(ring: keys.Keyring) -> None:
    with pytest.raises(TypeError, match="expires_at"):
        credentials.seal_for_record(ring.active, factories.grant_record(), {"expires_at": 5})  # type: ignore[dict-item]
