"""Valid documents of every kind, fresh on each call, for tests to break one field at a time."""

from __future__ import annotations

import copy
from typing import Any

API_VERSION = "strongroom.dev/v1alpha1"

_APP: dict[str, Any] = {
    "apiVersion": API_VERSION,
    "kind": "App",
    "metadata": {"name": "demo", "namespace": "default"},
    "spec": {
        "serviceAccounts": ["web"],
        "identity": {
            "issuer": "https://id.example.com",
            "jwksURL": "https://id.example.com/jwks",
            "audiences": ["demo"],
        },
        "policy": {
            "rules": [{"methods": ["GET"], "timeWindows": [{"start": "09:00", "end": "17:00"}]}]
        },
        "connect": {"returnURLs": ["https://demo.example.com/done"]},
    },
}

_OAUTH2_PROVIDER: dict[str, Any] = {
    "apiVersion": API_VERSION,
    "kind": "Provider",
    "metadata": {"name": "example", "namespace": "default"},
    "spec": {
        "appRef": "demo",
        "type": "oauth2",
        "allowedHosts": ["api.example.com"],
        "oauth2": {
            "authorizationURL": "https://auth.example.com/authorize",
            "tokenURL": "https://auth.example.com/token",
            "clientId": "client-1",
            "clientSecretRef": {"name": "example-oauth"},
        },
    },
}

_SECRET_PROVIDER: dict[str, Any] = {
    "apiVersion": API_VERSION,
    "kind": "Provider",
    "metadata": {"name": "stripe-key", "namespace": "default"},
    "spec": {
        "appRef": "demo",
        "type": "secret",
        "allowedHosts": ["api.stripe.com"],
        "injections": [{"type": "header", "name": "X-Api-Key", "format": "{token}"}],
    },
}

_GRANT: dict[str, Any] = {
    "apiVersion": API_VERSION,
    "kind": "Grant",
    "metadata": {"name": "alice-example", "namespace": "default"},
    "spec": {
        "appRef": "demo",
        "providerRef": "example",
        "principal": {"kind": "user", "id": "alice"},
        "scopes": ["read"],
        "credential": {"sealedValue": "sealed-blob"},
    },
}

_AGENT: dict[str, Any] = {
    "apiVersion": API_VERSION,
    "kind": "Agent",
    "metadata": {"name": "bot", "namespace": "default"},
    "spec": {
        "appRef": "demo",
        "access": [{"grant": "alice-example"}, {"provider": "example", "scopes": ["read"]}],
    },
}


def app() -> dict[str, Any]:
    return copy.deepcopy(_APP)


def oauth2_provider() -> dict[str, Any]:
    return copy.deepcopy(_OAUTH2_PROVIDER)


def secret_provider() -> dict[str, Any]:
    return copy.deepcopy(_SECRET_PROVIDER)


def grant() -> dict[str, Any]:
    return copy.deepcopy(_GRANT)


def agent() -> dict[str, Any]:
    return copy.deepcopy(_AGENT)


def all_valid() -> list[dict[str, Any]]:
    return [app(), oauth2_provider(), secret_provider(), grant(), agent()]
