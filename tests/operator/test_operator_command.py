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
