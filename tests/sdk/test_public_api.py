import subprocess
import sys

import strongroom


def test_public_names_are_exactly_the_documented_ones() -> None:
    assert strongroom.__all__ == [
        "AmbiguousGrant",
        "App",
        "AsyncApp",
        "AuditUnavailable",
        "CredentialUnavailable",
        "GrantNotFound",
        "GrantRevoked",
        "IdentityRequired",
        "InvalidRequest",
        "PolicyDenied",
        "ReauthorizationRequired",
        "SidecarError",
        "SidecarUnavailable",
        "StrongroomError",
        "UpstreamError",
        "UsageError",
        "__version__",
    ]


def test_every_public_name_exists_and_reports_the_public_module() -> None:
    for name in strongroom.__all__:
        value = getattr(strongroom, name)
        if name != "__version__":
            assert value.__module__ == "strongroom", name


def test_version_is_a_dotted_string() -> None:
    assert all(part.isdigit() for part in strongroom.__version__.split("."))


def test_every_sdk_exception_is_a_strongroom_error() -> None:
    for name in strongroom.__all__:
        value = getattr(strongroom, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, strongroom.StrongroomError), name


def test_usage_errors_are_also_value_errors() -> None:
    assert issubclass(strongroom.UsageError, ValueError)


def test_importing_the_sdk_pulls_in_no_server_package() -> None:
    probe = (
        "import sys, strongroom\n"
        "server = ('aiohttp', 'kopf', 'strongroom_core', 'strongroom_sidecar',\n"
        "          'strongroom_operator', 'strongroom_webhook', 'strongroom_cli')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in server)\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
    # The probe itself must see the package: a failing import would also print nothing.
    assert result.stderr == ""
