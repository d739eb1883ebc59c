"""apply_preset: a preset fills what the user left unset, and nothing more."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from strongroom_core import catalog


def test_preset_fills_unset_fields_and_drops_its_documentation():
    spec = catalog.apply_preset(
        "github", {"appRef": "app", "preset": "github", "oauth2": {"clientId": "cid"}}
    )
    assert spec["type"] == "oauth2"
    assert spec["allowedHosts"] == ["api.github.com", "uploads.github.com"]
    assert spec["oauth2"]["clientId"] == "cid"
    assert spec["oauth2"]["tokenURL"] == "https://github.com/login/oauth/access_token"
    assert spec["appRef"] == "app"
    assert spec["preset"] == "github"
    assert "source" not in spec
    assert "notes" not in spec


def test_fields_the_user_set_win():
    spec = catalog.apply_preset(
        "github",
        {"displayName": "GHES", "oauth2": {"pkce": False, "tokenURL": "https://ghe.corp/t"}},
    )
    assert spec["displayName"] == "GHES"
    assert spec["oauth2"]["pkce"] is False
    assert spec["oauth2"]["tokenURL"] == "https://ghe.corp/t"
    assert spec["oauth2"]["authorizationURL"] == "https://github.com/login/oauth/authorize"


def test_lists_replace_rather_than_merge():
    spec = catalog.apply_preset(
        "datadog",
        {
            "allowedHosts": ["api.datadoghq.eu"],
            "injections": [{"type": "header", "name": "DD-API-KEY", "format": "{api_key}"}],
        },
    )
    assert spec["allowedHosts"] == ["api.datadoghq.eu"]
    assert spec["injections"] == [{"type": "header", "name": "DD-API-KEY", "format": "{api_key}"}]
    spec = catalog.apply_preset("microsoft", {"oauth2": {"defaultScopes": ["Mail.Read"]}})
    assert spec["oauth2"]["defaultScopes"] == ["Mail.Read"]


def test_nested_mappings_merge_key_by_key():
    spec = catalog.apply_preset(
        "slack-user", {"oauth2": {"tokenResponse": {"scope": "authed_user.scopes"}}}
    )
    assert spec["oauth2"]["tokenResponse"]["scope"] == "authed_user.scopes"
    assert spec["oauth2"]["tokenResponse"]["accessToken"] == "authed_user.access_token"


def test_explicit_null_removes_the_presets_value():
    spec = catalog.apply_preset("google", {"oauth2": {"revocationURL": None}})
    assert "revocationURL" not in spec["oauth2"]
    assert spec["oauth2"]["tokenURL"] == "https://oauth2.googleapis.com/token"


def test_apply_preset_changes_neither_argument_nor_the_catalog():
    user: dict[str, Any] = {"oauth2": {"clientId": "cid"}, "allowedHosts": ["api.github.com"]}
    before = copy.deepcopy(user)
    spec = catalog.apply_preset("github", user)
    spec["oauth2"]["tokenURL"] = "https://evil.com/"
    spec["allowedHosts"].append("evil.com")
    assert user == before
    assert catalog.load_preset("github")["oauth2"]["tokenURL"] != "https://evil.com/"
    assert catalog.apply_preset("github", {})["allowedHosts"] == [
        "api.github.com",
        "uploads.github.com",
    ]


def test_unknown_preset_is_a_value_error_listing_known_presets():
    with pytest.raises(catalog.UnknownPresetError) as info:
        catalog.apply_preset("githib", {})
    assert isinstance(info.value, ValueError)
    assert info.value.name == "githib"
    assert info.value.known_names == catalog.preset_names()
    assert "'githib'" in str(info.value)
    assert "github" in str(info.value)


def test_preset_names_are_sorted_and_loadable():
    names = catalog.preset_names()
    assert names == sorted(names)
    for name in names:
        assert catalog.load_preset(name)["type"] in ("oauth2", "secret")


def test_deep_merge_lets_a_user_scalar_replace_a_preset_mapping():
    assert catalog.deep_merge({"a": {"b": 1}}, {"a": "x"}) == {"a": "x"}
    assert catalog.deep_merge({"a": 1}, {"a": {"b": 2}}) == {"a": {"b": 2}}
