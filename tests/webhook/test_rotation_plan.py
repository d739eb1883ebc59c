"""The rotation rules as a pure function of (state, time): a new CA joins the bundle before it
signs anything, serves only after the overlap, and the old CA leaves only after twice that."""

from __future__ import annotations

import datetime

import pytest

from strongroom_webhook.certs import authority, rotation

T0 = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
TIMING = rotation.Timing(
    ca_validity=datetime.timedelta(days=365),
    ca_renew_before=datetime.timedelta(days=30),
    cert_validity=datetime.timedelta(days=30),
    cert_renew_before=datetime.timedelta(days=10),
    overlap=datetime.timedelta(hours=1),
)
NAMES = ["strongroom-webhook.strongroom-system.svc", "strongroom-webhook"]


def signer(state: rotation.TlsState) -> authority.KeyPair:
    return next(ca for ca in state.cas if ca.signed(state.serving))


def test_a_fresh_state_is_one_ca_and_a_certificate_it_signed_for_the_service_names() -> None:
    state = rotation.fresh(T0, TIMING, NAMES)
    assert len(state.cas) == 1
    assert signer(state) == state.cas[0]
    assert sorted(state.serving.dns_names()) == sorted(NAMES)
    assert rotation.plan(state, T0 + datetime.timedelta(days=1), TIMING, NAMES) is None


def test_the_serving_certificate_is_renewed_before_it_expires_by_the_same_ca() -> None:
    state = rotation.fresh(T0, TIMING, NAMES)
    renewed = rotation.plan(state, T0 + datetime.timedelta(days=21), TIMING, NAMES)
    assert renewed is not None
    assert renewed.cas == state.cas
    assert renewed.serving != state.serving
    assert signer(renewed) == state.cas[0]


def test_changed_service_names_get_a_new_certificate() -> None:
    state = rotation.fresh(T0, TIMING, NAMES)
    renewed = rotation.plan(state, T0, TIMING, ["other.strongroom-system.svc"])
    assert renewed is not None
    assert renewed.serving.dns_names() == ["other.strongroom-system.svc"]


def test_ca_rotation_overlaps_old_and_new_in_the_bundle() -> None:
    start = rotation.fresh(T0, TIMING, NAMES)
    old_ca = start.cas[0]
    # a certificate renewal on the way, so the CA's turn finds a recent serving certificate
    due = T0 + datetime.timedelta(days=336)
    added = rotation.plan(start, due, TIMING, NAMES)
    assert added is not None
    assert len(added.cas) == 2
    assert added.cas[0] == old_ca
    new_ca = added.cas[1]
    assert signer(added) == old_ca, "a CA not yet published signs nothing"
    assert count(added.bundle) == 2

    early = rotation.plan(added, due + datetime.timedelta(minutes=30), TIMING, NAMES)
    assert early is None

    switched = rotation.plan(added, due + TIMING.overlap, TIMING, NAMES)
    assert switched is not None
    assert switched.cas == (old_ca, new_ca), "the old CA stays while replicas switch"
    assert signer(switched) == new_ca

    assert rotation.plan(switched, due + TIMING.overlap * 1.5, TIMING, NAMES) is None
    dropped = rotation.plan(switched, due + TIMING.overlap * 2, TIMING, NAMES)
    assert dropped is not None
    assert dropped.cas == (new_ca,)
    assert dropped.serving == switched.serving


def test_an_expired_ca_is_replaced_outright() -> None:
    state = rotation.fresh(T0, TIMING, NAMES)
    later = rotation.plan(state, T0 + datetime.timedelta(days=400), TIMING, NAMES)
    assert later is not None
    assert later.cas[0] != state.cas[0]
    assert len(later.cas) == 1


def test_the_state_round_trips_through_secret_data_and_keys_stay_out_of_repr() -> None:
    state = rotation.fresh(T0, TIMING, NAMES)
    two = rotation.plan(state, T0 + datetime.timedelta(days=336), TIMING, NAMES)
    assert two is not None
    for original in (state, two):
        assert rotation.TlsState.from_data(original.to_data()) == original
    assert b"PRIVATE KEY" not in repr(two).encode()


def test_a_corrupt_secret_is_reported_without_its_content() -> None:
    data = rotation.fresh(T0, TIMING, NAMES).to_data()
    data["tls.crt"] = "bm90IGEgY2VydA=="
    with pytest.raises(ValueError, match="not a usable webhook TLS state") as raised:
        rotation.TlsState.from_data(data)
    assert "bm90" not in str(raised.value)


def count(bundle: bytes) -> int:
    return bundle.count(b"-----BEGIN CERTIFICATE-----")
