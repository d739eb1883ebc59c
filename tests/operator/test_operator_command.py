"""The console command's arguments: peering by default, ``--standalone`` for one replica, and a
clear error without the control plane's namespace."""

from __future__ import annotations

import pytest

from strongroom_operator.kopfhandlers import main


def test_peering_is_the_default_and_standalone_turns_it_off() -> None:
    peered, _ = main.parse_args(["--namespace", "strongroom-system", "--priority", "7"])
    alone, _ = main.parse_args(["--namespace", "strongroom-system", "--standalone"])
    assert (peered.peering, peered.priority) == ("strongroom", 7)
    assert alone.peering is None


def test_the_namespace_is_required_and_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STRONGROOM_NAMESPACE", raising=False)
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    with pytest.raises(SystemExit):
        main.parse_args([])
    assert "--namespace" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_priority_variable_is_unset_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """The chart sets it from the pod-index label, which older controllers do not add."""
    monkeypatch.setenv("STRONGROOM_OPERATOR_PRIORITY", value)
    config, _ = main.parse_args(["--namespace", "strongroom-system"])
    assert config.priority == 0


def test_the_priority_variable_is_read_and_a_bad_one_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRONGROOM_OPERATOR_PRIORITY", "2")
    assert main.parse_args(["--namespace", "strongroom-system"])[0].priority == 2
    assert main.parse_args(["--namespace", "x", "--priority", "5"])[0].priority == 5
    monkeypatch.setenv("STRONGROOM_OPERATOR_PRIORITY", "two")
    with pytest.raises(SystemExit):
        main.parse_args(["--namespace", "strongroom-system"])
    assert "STRONGROOM_OPERATOR_PRIORITY='two': expected an integer" in capsys.readouterr().err


def test_the_ca_bundle_source_is_a_configmap_by_default_and_can_be_a_secret_or_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    default, _ = main.parse_args(["--namespace", "sr"])
    assert default.ca_source == ("configmap", "sr", "strongroom-ca")
    secret, _ = main.parse_args(
        ["--namespace", "sr", "--ca-bundle-source", "secret/strongroom-controlplane-tls"]
    )
    assert secret.ca_source == ("secret", "sr", "strongroom-controlplane-tls")
    assert main.parse_args(["--namespace", "sr", "--ca-bundle-source", ""])[0].ca_source is None
    with pytest.raises(SystemExit):
        main.parse_args(["--namespace", "sr", "--ca-bundle-source", "pod/x"])
    assert "--ca-bundle-source: 'pod/x': expected configmap/NAME" in capsys.readouterr().err


def test_liveness_is_off_unless_asked_and_reaches_kopf() -> None:
    off, _ = main.parse_args(["--namespace", "sr"])
    on, _ = main.parse_args(["--namespace", "sr", "--liveness", "http://0.0.0.0:8080/healthz"])
    assert main.kopf_options(off)["liveness_endpoint"] is None
    assert main.kopf_options(on)["liveness_endpoint"] == "http://0.0.0.0:8080/healthz"
