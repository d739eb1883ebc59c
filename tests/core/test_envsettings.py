"""Settings dataclasses from ``<PREFIX><FIELD>`` variables: conversion by annotation, empty means
unset, and every error names the variable the user sets."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from strongroom_core import envsettings


@dataclass(frozen=True)
class Example:
    name: str
    port: int = 80
    timeout: float = 1.0
    verbose: bool = False

    def __post_init__(self) -> None:
        if self.port < 0:
            raise envsettings.SettingsError("port: must be 0 or more")
        if self.name == "both":
            raise envsettings.SettingsError("name and port: not together")


def read(**environ: str) -> Example:
    return envsettings.from_env(
        Example, "EX_", {f"EX_{k.upper()}": v for k, v in environ.items()}, required=("name",)
    )


def test_fields_are_converted_by_their_annotation() -> None:
    assert read(name="a", port="8080", timeout="2.5", verbose="yes") == Example(
        "a", 8080, 2.5, verbose=True
    )


def test_an_empty_variable_keeps_the_default() -> None:
    assert read(name="a", port="") == Example("a")


def test_a_missing_required_variable_is_named() -> None:
    with pytest.raises(envsettings.SettingsError, match="EX_NAME: required, not set"):
        read(port="1")


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        ("port", "eighty", "EX_PORT: 'eighty' is not an integer"),
        ("timeout", "soon", "EX_TIMEOUT: 'soon' is not a number of seconds"),
        ("verbose", "maybe", "EX_VERBOSE: 'maybe' is not a boolean; use true or false"),
    ],
)
def test_an_unconvertible_value_names_the_variable(field: str, raw: str, message: str) -> None:
    with pytest.raises(envsettings.SettingsError, match=message):
        read(name="a", **{field: raw})


def test_a_refusal_by_the_dataclass_names_the_variable() -> None:
    with pytest.raises(envsettings.SettingsError, match=r"^EX_PORT: must be 0 or more$"):
        read(name="a", port="-1")


def test_a_refusal_not_about_one_field_passes_unchanged() -> None:
    with pytest.raises(envsettings.SettingsError, match=r"^name and port: not together$"):
        read(name="both")
