"""What a well-formed preset looks like, as a function: the catalog tests run it on every
preset, and it tells whoever adds one exactly what to fix.

Checked: only known keys; at least one ``https`` documentation ``source``; ``type``; non-empty
``allowedHosts`` of valid, non-loopback patterns; injections that compile and use only the
fields a credential of this provider has (``secret.fields``, or the OAuth2 credential fields);
OAuth2 endpoints that are valid ``https`` URLs; nothing a user must supply (``clientId``,
``clientSecretRef``, ``appRef``).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from strongroom_core import injection, targets

SPEC_KEYS = frozenset(
    {"type", "displayName", "allowedHosts", "injections", "oauth2", "secret", "source", "notes"}
)
OAUTH2_KEYS = frozenset(
    {
        "authorizationURL",
        "tokenURL",
        "revocationURL",
        "defaultScopes",
        "scopeSeparator",
        "pkce",
        "clientAuthMethod",
        "tokenResponse",
        "refreshMarginSeconds",
    }
)
TOKEN_RESPONSE_KEYS = frozenset(
    {"accessToken", "refreshToken", "expiresIn", "expiresAt", "tokenType", "scope"}
)
CLIENT_AUTH_METHODS = frozenset({"client_secret_basic", "client_secret_post", "none"})
OAUTH2_CREDENTIAL_FIELDS = frozenset(
    {"access_token", "refresh_token", "token_type", "expires_at", "scope"}
)
"""The fields of a sealed OAuth2 credential, which OAuth2 injections may use."""


def _url_problem(url: object) -> str | None:
    if not isinstance(url, str):
        return "must be a string URL"
    host = urllib.parse.urlsplit(url).hostname if url.startswith("https://") else None
    if not host:
        return f"{url!r} is not an https URL"
    try:
        targets.check_target(url, [host], allow_loopback=False)
    except targets.TargetRefused as e:
        return f"{url!r} is refused as a target ({e.code}: {e.detail})"
    return None


def _check_strings(where: str, value: object, problems: list[str], *, empty_ok: bool) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{where} must be a list of non-empty strings")
    elif not value and not empty_ok:
        problems.append(f"{where} must not be empty")


def _check_oauth2(oauth2: object, problems: list[str]) -> None:
    if not isinstance(oauth2, Mapping):
        problems.append("oauth2 is required for type oauth2 and must be a mapping")
        return
    for key in sorted(set(oauth2) - OAUTH2_KEYS):
        problems.append(f"oauth2.{key} is not a preset key (a user supplies clientId and secret)")
    if "tokenURL" not in oauth2:
        problems.append("oauth2.tokenURL is required")
    for key in ("authorizationURL", "tokenURL", "revocationURL"):
        if key in oauth2 and (problem := _url_problem(oauth2[key])):
            problems.append(f"oauth2.{key}: {problem}")
    if "defaultScopes" in oauth2:
        _check_strings("oauth2.defaultScopes", oauth2["defaultScopes"], problems, empty_ok=True)
    separator = oauth2.get("scopeSeparator", " ")
    if not isinstance(separator, str) or not separator:
        problems.append("oauth2.scopeSeparator must be a non-empty string")
    if not isinstance(oauth2.get("pkce", True), bool):
        problems.append("oauth2.pkce must be true or false")
    if oauth2.get("clientAuthMethod", "client_secret_basic") not in CLIENT_AUTH_METHODS:
        problems.append(f"oauth2.clientAuthMethod must be one of {sorted(CLIENT_AUTH_METHODS)}")
    mapping = oauth2.get("tokenResponse", {})
    if not isinstance(mapping, Mapping):
        problems.append("oauth2.tokenResponse must be a mapping")
        return
    for key, path in mapping.items():
        if key not in TOKEN_RESPONSE_KEYS:
            problems.append(f"oauth2.tokenResponse.{key} is not a known key")
        elif not isinstance(path, str):
            problems.append(f"oauth2.tokenResponse.{key} must be a dotted path string")


def _credential_fields(preset: Mapping[str, Any], problems: list[str]) -> frozenset[str]:
    if preset.get("type") == "oauth2":
        if "secret" in preset:
            problems.append("secret is only for type secret")
        _check_oauth2(preset.get("oauth2"), problems)
        return OAUTH2_CREDENTIAL_FIELDS
    if "oauth2" in preset:
        problems.append("oauth2 is only for type oauth2")
    secret = preset.get("secret", {})
    fields = secret.get("fields", ["token"]) if isinstance(secret, Mapping) else None
    if not isinstance(fields, list) or not fields:
        problems.append("secret.fields must be a non-empty list of field names")
        return frozenset()
    _check_strings("secret.fields", fields, problems, empty_ok=False)
    return frozenset(f for f in fields if isinstance(f, str))


def _check_injections(
    preset: Mapping[str, Any], fields: frozenset[str], problems: list[str]
) -> None:
    default_field = "access_token" if preset.get("type") == "oauth2" else "token"
    try:
        items = injection.from_spec(preset.get("injections", [{"type": "bearer"}]))
        compiled = injection.CompiledInjections.compile(items, default_field=default_field)
    except (injection.InjectionError, TypeError) as e:
        problems.append(f"injections: {e}")
        return
    for field in sorted(compiled.fields - fields):
        problems.append(
            f"injections use field {field!r}, which this provider's credential does not declare"
        )


def check_preset(name: str, preset: Mapping[str, Any]) -> list[str]:
    """Every problem with one preset, as ``<key>: <what is wrong>`` lines; empty when fine."""
    problems = [f"{key} is not a preset key" for key in sorted(set(preset) - SPEC_KEYS)]
    source = preset.get("source")
    _check_strings("source", source, problems, empty_ok=False)
    if isinstance(source, list):
        for url in source:
            if isinstance(url, str) and (problem := _url_problem(url)):
                problems.append(f"source: {problem}")
    if not isinstance(preset.get("notes", ""), str):
        problems.append("notes must be a string")
    if preset.get("type") not in ("oauth2", "secret"):
        problems.append("type must be oauth2 or secret")
    if not isinstance(preset.get("displayName"), str) or not preset.get("displayName"):
        problems.append("displayName must be a non-empty string")
    hosts = preset.get("allowedHosts")
    _check_strings("allowedHosts", hosts, problems, empty_ok=False)
    if isinstance(hosts, list):
        for index, pattern in enumerate(hosts):
            if problem := targets.validate_host_pattern(pattern):
                problems.append(f"allowedHosts[{index}]: {problem}")
            elif "localhost" in str(pattern) or str(pattern).startswith(("127.", "[")):
                problems.append(f"allowedHosts[{index}]: a preset cannot allow loopback hosts")
    fields = _credential_fields(preset, problems)
    _check_injections(preset, fields, problems)
    return [f"preset {name}: {problem}" for problem in problems]
