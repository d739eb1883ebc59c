"""The sidecar's table of error codes and the SDK's mapping cannot drift apart: every code the
sidecar can answer with has a typed exception in the SDK (or is raised as SidecarUnavailable)."""

from __future__ import annotations

from strongroom import _errors_mapping
from strongroom_sidecar import problems


def test_every_sidecar_code_is_known_to_the_sdk() -> None:
    known = set(_errors_mapping.ERROR_TYPES) | set(_errors_mapping.UNAVAILABLE_CODES)
    missing = sorted(set(problems.CODES) - known)
    assert not missing, f"sidecar codes the SDK does not map: {missing}"


def test_try_again_later_codes_are_unavailability_in_the_sdk() -> None:
    for code in ("not_ready", "overloaded", "jwks_unavailable"):
        assert code in problems.CODES
        assert code in _errors_mapping.UNAVAILABLE_CODES
