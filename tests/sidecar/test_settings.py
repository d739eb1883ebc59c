from __future__ import annotations

import pytest

from strongroom_sidecar import settings

BASE = {
    "STRONGROOM_SIDECAR_CONTROL_PLANE_URL": "https://cp.strongroom.svc:8443",
    "STRONGROOM_SIDECAR_NAMESPACE": "shop",
    "STRONGROOM_SIDECAR_APP": "billing",
}


def test_settings_are_read_from_environment_variables() -> None:
    env = dict(
        BASE,
        STRONGROOM_SIDECAR_PROXY_PORT="0",
        STRONGROOM_SIDECAR_ALLOW_LOOPBACK_TARGETS="true",
        STRONGROOM_SIDECAR_UPSTREAM_TIMEOUT="2.5",
        STRONGROOM_SIDECAR_AUDIT_MODE="drop",
        STRONGROOM_SIDECAR_CALLER="pod/billing-1",
    )
    s = settings.SidecarSettings.from_env(env)
    assert (s.namespace, s.app, s.caller) == ("shop", "billing", "pod/billing-1")
    assert s.proxy_port == 0
    assert s.allow_loopback_targets is True
    assert s.upstream_timeout == 2.5
    assert s.audit_mode == "drop"
    assert s.listen_host == "127.0.0.1"


def test_missing_required_variable_is_named() -> None:
    env = dict(BASE)
    del env["STRONGROOM_SIDECAR_APP"]
    with pytest.raises(settings.SettingsError, match="STRONGROOM_SIDECAR_APP: required"):
        settings.SidecarSettings.from_env(env)


def test_malformed_number_names_the_variable() -> None:
    env = dict(BASE, STRONGROOM_SIDECAR_MAX_CONCURRENCY="lots")
    with pytest.raises(settings.SettingsError, match="STRONGROOM_SIDECAR_MAX_CONCURRENCY"):
        settings.SidecarSettings.from_env(env)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "::", "example.com"])
def test_proxy_refuses_to_listen_on_anything_but_loopback(host: str) -> None:
    env = dict(BASE, STRONGROOM_SIDECAR_LISTEN_HOST=host)
    with pytest.raises(settings.SettingsError, match=r"STRONGROOM_SIDECAR_LISTEN_HOST.*loopback"):
        settings.SidecarSettings.from_env(env)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_listen_hosts_are_accepted(host: str) -> None:
    assert settings.SidecarSettings.from_env(dict(BASE, STRONGROOM_SIDECAR_LISTEN_HOST=host))


def test_unknown_audit_mode_is_refused_with_the_choices() -> None:
    env = dict(BASE, STRONGROOM_SIDECAR_AUDIT_MODE="maybe")
    with pytest.raises(settings.SettingsError, match="fail_closed or drop"):
        settings.SidecarSettings.from_env(env)


def test_token_file_is_read_on_every_call_so_rotation_needs_no_restart(tmp_path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("first\n")
    s = settings.SidecarSettings(
        "http://127.0.0.1:1", "shop", "billing", control_plane_token_file=str(token_file)
    )
    assert s.read_control_plane_token() == "first"
    token_file.write_text("second")
    assert s.read_control_plane_token() == "second"


def test_repr_never_shows_the_control_plane_token() -> None:
    s = settings.SidecarSettings(
        "http://127.0.0.1:1", "shop", "billing", control_plane_token="sekret-token-value"
    )
    assert "sekret-token-value" not in repr(s)
