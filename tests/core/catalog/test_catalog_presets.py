"""Every preset in the catalog is well formed, cites its sources and gets the provider's
authentication details right."""

from __future__ import annotations

import base64
import pathlib
from typing import Any

import pytest

from strongroom_core import catalog, injection, targets

NAMES = catalog.preset_names()
REQUIRED = [
    "anthropic",
    "datadog",
    "github",
    "gitlab",
    "google",
    "hubspot",
    "linear",
    "microsoft",
    "notion",
    "openai",
    "slack",
    "stripe",
]


def _fields(preset: dict[str, Any]) -> set[str]:
    if preset["type"] == "oauth2":
        return set(catalog.checking.OAUTH2_CREDENTIAL_FIELDS)
    return set(preset.get("secret", {}).get("fields", ["token"]))


def _render(name: str, credential: dict[str, str]) -> injection.InjectedRequest:
    preset = catalog.load_preset(name)
    default_field = "access_token" if preset["type"] == "oauth2" else "token"
    items = injection.from_spec(preset.get("injections", [{"type": "bearer"}]))
    return injection.render(items, credential, default_field=default_field)


def test_catalog_has_at_least_the_twelve_core_presets():
    assert len(NAMES) >= 12
    assert set(REQUIRED) <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_preset_passes_the_preset_checker(name: str):
    assert catalog.check_preset(name, catalog.load_preset(name)) == []


@pytest.mark.parametrize("name", NAMES)
def test_preset_cites_https_sources_and_explains_itself(name: str):
    preset = catalog.load_preset(name)
    assert preset["source"], "at least one documentation URL"
    assert all(url.startswith("https://") for url in preset["source"])
    assert isinstance(preset["notes"], str)
    assert preset["notes"].strip()


@pytest.mark.parametrize("name", NAMES)
def test_preset_urls_are_https_only(name: str):
    oauth2 = catalog.load_preset(name).get("oauth2", {})
    for key in ("authorizationURL", "tokenURL", "revocationURL"):
        if key in oauth2:
            assert oauth2[key].startswith("https://"), key


@pytest.mark.parametrize("name", NAMES)
def test_preset_allows_some_hosts_and_each_pattern_is_valid(name: str):
    hosts = catalog.load_preset(name)["allowedHosts"]
    assert hosts
    for pattern in hosts:
        assert targets.validate_host_pattern(pattern) is None, pattern


@pytest.mark.parametrize("name", NAMES)
def test_preset_injections_use_only_declared_fields(name: str):
    preset = catalog.load_preset(name)
    default_field = "access_token" if preset["type"] == "oauth2" else "token"
    compiled = injection.CompiledInjections.compile(
        injection.from_spec(preset.get("injections", [{"type": "bearer"}])),
        default_field=default_field,
    )
    assert compiled.fields <= _fields(preset)
    credential = dict.fromkeys(_fields(preset), "v")
    assert compiled.render(credential).headers or compiled.render(credential).query


@pytest.mark.parametrize("name", NAMES)
def test_preset_leaves_client_credentials_to_the_user(name: str):
    oauth2 = catalog.load_preset(name).get("oauth2", {})
    assert "clientId" not in oauth2
    assert "clientSecretRef" not in oauth2


def test_anthropic_sends_x_api_key_and_anthropic_version():
    headers = _render("anthropic", {"token": "sk-ant"}).headers
    assert headers == {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}


def test_datadog_sends_two_keys_and_covers_regional_sites():
    preset = catalog.load_preset("datadog")
    assert preset["secret"]["fields"] == ["api_key", "app_key"]
    headers = _render("datadog", {"api_key": "a", "app_key": "b"}).headers
    assert headers == {"DD-API-KEY": "a", "DD-APPLICATION-KEY": "b"}
    for host in (
        "api.datadoghq.com",
        "api.datadoghq.eu",
        "api.us3.datadoghq.com",
        "api.us5.datadoghq.com",
        "api.ap1.datadoghq.com",
        "api.ddog-gov.com",
    ):
        assert targets.host_allowed(host, 443, preset["allowedHosts"]), host


def test_slack_user_token_is_read_from_authed_user():
    mapping = catalog.load_preset("slack-user")["oauth2"]["tokenResponse"]
    assert mapping["accessToken"] == "authed_user.access_token"
    assert mapping["refreshToken"] == "authed_user.refresh_token"
    slack = catalog.load_preset("slack")["oauth2"]
    assert slack["tokenURL"] == "https://slack.com/api/oauth.v2.access"
    assert slack["scopeSeparator"] == ","


def test_github_injects_only_the_credential_not_api_headers():
    for name in ("github", "github-token"):
        headers = _render(name, {"access_token": "gho", "token": "ghp"}).headers
        assert set(headers) == {"Authorization"}
    oauth2 = catalog.load_preset("github")["oauth2"]
    assert oauth2["tokenURL"] == "https://github.com/login/oauth/access_token"


def test_stripe_sends_the_secret_key_as_bearer():
    assert _render("stripe", {"token": "sk_test_1"}).headers == {
        "Authorization": "Bearer sk_test_1"
    }


def test_notion_sends_bearer_and_notion_version():
    headers = _render("notion", {"token": "ntn"}).headers
    assert headers["Authorization"] == "Bearer ntn"
    assert headers["Notion-Version"]


def test_google_uses_the_googleapis_token_and_revocation_endpoints():
    oauth2 = catalog.load_preset("google")["oauth2"]
    assert oauth2["tokenURL"] == "https://oauth2.googleapis.com/token"
    assert oauth2["revocationURL"] == "https://oauth2.googleapis.com/revoke"


def test_microsoft_uses_the_common_v2_endpoints():
    oauth2 = catalog.load_preset("microsoft")["oauth2"]
    assert oauth2["authorizationURL"].startswith("https://login.microsoftonline.com/common/")
    assert oauth2["tokenURL"] == "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    assert "offline_access" in oauth2["defaultScopes"]


def test_linear_api_key_goes_in_authorization_without_bearer():
    assert _render("linear-api-key", {"token": "lin_api_x"}).headers == {
        "Authorization": "lin_api_x"
    }


def test_twilio_uses_basic_with_sid_and_token():
    headers = _render("twilio", {"account_sid": "AC1", "auth_token": "tok"}).headers
    assert headers == {"Authorization": "Basic " + base64.b64encode(b"AC1:tok").decode()}


def test_load_preset_returns_a_fresh_copy_each_time():
    first = catalog.load_preset("github")
    first["allowedHosts"].append("evil.com")
    first["oauth2"]["tokenURL"] = "https://evil.com/"
    second = catalog.load_preset("github")
    assert "evil.com" not in second["allowedHosts"]
    assert second["oauth2"]["tokenURL"] != "https://evil.com/"


@pytest.mark.parametrize("name", ["nope", "../github", "GitHub", "github.yaml", ""])
def test_unknown_preset_names_are_refused(name: str):
    with pytest.raises(catalog.UnknownPresetError):
        catalog.load_preset(name)


BASE: dict[str, Any] = {
    "type": "secret",
    "displayName": "Example",
    "allowedHosts": ["api.example.com"],
    "injections": [{"type": "bearer"}],
    "secret": {"fields": ["token"]},
    "source": ["https://docs.example.com/auth"],
    "notes": "An example.",
}


def _with(**changes: Any) -> dict[str, Any]:
    preset = catalog.deep_merge(BASE, {})
    preset.update(changes)
    return preset


@pytest.mark.parametrize(
    ("preset", "problem"),
    [
        (_with(source=[]), "source must not be empty"),
        (_with(source=["http://docs.example.com/"]), "not an https URL"),
        (_with(allowedHosts=[]), "allowedHosts must not be empty"),
        (_with(allowedHosts=["localhost:8080"]), "loopback"),
        (_with(allowedHosts=["*.com"]), "allowedHosts[0]"),
        (_with(injections=[{"type": "header", "name": "X", "format": "{other}"}]), "'other'"),
        (_with(injections=[{"type": "header", "name": "X", "format": "{a.b}"}]), "placeholder"),
        (_with(type="magic"), "type must be"),
        (_with(extra=1), "extra is not a preset key"),
        (_with(oauth2={"tokenURL": "https://x.example/t"}), "oauth2 is only for type oauth2"),
        (
            _with(type="oauth2", secret=None, oauth2={"tokenURL": "http://x.example/t"}),
            "oauth2.tokenURL",
        ),
        (
            _with(type="oauth2", oauth2={"tokenURL": "https://x.example/t", "clientId": "c"}),
            "oauth2.clientId",
        ),
        (
            _with(type="oauth2", oauth2={"authorizationURL": "https://x.example/a"}),
            "oauth2.tokenURL is required",
        ),
        (
            _with(
                type="oauth2",
                oauth2={"tokenURL": "https://x.example/t", "clientAuthMethod": "magic"},
            ),
            "clientAuthMethod",
        ),
        (
            _with(
                type="oauth2",
                oauth2={"tokenURL": "https://x.example/t", "tokenResponse": {"nope": "x"}},
            ),
            "tokenResponse.nope",
        ),
    ],
)
def test_preset_checker_reports_each_problem(preset: dict[str, Any], problem: str):
    preset = {key: value for key, value in preset.items() if value is not None}
    problems = catalog.check_preset("example", preset)
    assert any(problem in line for line in problems), problems
    assert all(line.startswith("preset example: ") for line in problems)


def test_preset_checker_accepts_a_good_preset():
    assert catalog.check_preset("example", BASE) == []


def test_every_preset_is_listed_with_its_sources_in_the_docs():
    docs = pathlib.Path(__file__).parents[3].joinpath("docs", "providers.md").read_text()
    for name in NAMES:
        assert f"| `{name}` |" in docs, name
        for url in catalog.load_preset(name)["source"]:
            assert url in docs, (name, url)
