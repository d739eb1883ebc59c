"""Settings from ``STRONGROOM_WEBHOOK_*`` (errors name the variable), JSON pointer escaping and
resource quantities."""

from __future__ import annotations

import decimal

import pytest

from strongroom_webhook import main, patches, quantities, settings


def test_settings_read_every_field_from_the_environment() -> None:
    parsed = settings.WebhookSettings.from_env(
        {
            "STRONGROOM_WEBHOOK_NAMESPACE": "strongroom",
            "STRONGROOM_WEBHOOK_SIDECAR_IMAGE": "registry.example/sidecar:1.2",
            "STRONGROOM_WEBHOOK_PORT": "9443",
            "STRONGROOM_WEBHOOK_TLS_MODE": "cert-manager",
            "STRONGROOM_WEBHOOK_CERT_DIR": "/tls",
            "STRONGROOM_WEBHOOK_OVERLAP_SECONDS": "7200",
        }
    )
    assert parsed.namespace == "strongroom"
    assert parsed.sidecar_image == "registry.example/sidecar:1.2"
    assert parsed.port == 9443
    assert parsed.tls_mode == "cert-manager"
    assert parsed.overlap_seconds == 7200.0


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({}, "STRONGROOM_WEBHOOK_NAMESPACE: required"),
        (
            {"STRONGROOM_WEBHOOK_PORT": "https"},
            "STRONGROOM_WEBHOOK_PORT: 'https' is not an integer",
        ),
        ({"STRONGROOM_WEBHOOK_TLS_MODE": "magic"}, "STRONGROOM_WEBHOOK_TLS_MODE: 'magic'"),
        ({"STRONGROOM_WEBHOOK_TLS_MODE": "secret"}, "STRONGROOM_WEBHOOK_CERT_DIR: required"),
        ({"STRONGROOM_WEBHOOK_OVERLAP_SECONDS": "5"}, "STRONGROOM_WEBHOOK_OVERLAP_SECONDS"),
        (
            {"STRONGROOM_WEBHOOK_CA_RENEW_BEFORE_SECONDS": "3600"},
            "STRONGROOM_WEBHOOK_CA_RENEW_BEFORE_SECONDS",
        ),
        (
            {"STRONGROOM_WEBHOOK_TOKEN_EXPIRATION_SECONDS": "60"},
            "STRONGROOM_WEBHOOK_TOKEN_EXPIRATION_SECONDS: between 600",
        ),
    ],
)
def test_bad_settings_name_the_variable(environ: dict[str, str], named: str) -> None:
    base = {} if not environ else {"STRONGROOM_WEBHOOK_NAMESPACE": "strongroom"}
    with pytest.raises(settings.SettingsError, match=named):
        settings.WebhookSettings.from_env({**base, **environ})


def test_pointer_escapes_tilde_and_slash() -> None:
    assert patches.pointer("metadata", "annotations", "strongroom.dev/app") == (
        "/metadata/annotations/strongroom.dev~1app"
    )
    assert patches.pointer("a~b", 0, "-") == "/a~0b/0/-"


def test_append_or_create_creates_absent_lists_and_appends_or_prepends() -> None:
    assert patches.append_or_create(False, ("spec", "volumes"), [1, 2]) == [
        {"op": "add", "path": "/spec/volumes", "value": [1, 2]}
    ]
    assert [o["path"] for o in patches.append_or_create(True, ("v",), [1, 2])] == ["/v/-", "/v/-"]
    assert [o["path"] for o in patches.append_or_create(True, ("v",), [1, 2], first=True)] == [
        "/v/0",
        "/v/1",
    ]
    assert patches.append_or_create(True, ("v",), []) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10m", "0.010"),
        ("1", "1"),
        ("1.5", "1.5"),
        ("64Mi", str(64 * 2**20)),
        ("1G", "1E+9"),
        ("1e3", "1E+3"),
        (".5", "0.5"),
    ],
)
def test_quantities_parse(text: str, value: str) -> None:
    assert quantities.parse(text) == decimal.Decimal(value)


@pytest.mark.parametrize("text", ["", "-1", "lots", "10 m", "1Mb", "1e99", "Mi"])
def test_bad_quantities_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"quantity|exponent"):
        quantities.parse(text)


def test_the_console_script_exits_naming_a_missing_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STRONGROOM_WEBHOOK_NAMESPACE", raising=False)
    with pytest.raises(SystemExit, match="STRONGROOM_WEBHOOK_NAMESPACE: required"):
        main.main()
