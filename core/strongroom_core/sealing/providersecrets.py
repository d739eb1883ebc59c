"""A Provider's OAuth2 client secret, sealed for the App's sidecars.

The sidecar refreshes tokens, so it needs the client secret while it does; it never reads
Kubernetes Secrets (see DESIGN.md), so the operator resolves ``spec.oauth2.clientSecretRef`` and
puts the secret into the App's compiled policy sealed under the App's active data key, bound to
namespace, App and Provider (:class:`bindings.ProviderSecretBinding`).

The compiled policy's digest must not change on every compile (sealing is randomised), so the
policy carries :func:`secret_digest` instead: an HMAC under the same data key, which changes when
the secret or the active key changes and tells nothing about the secret to anyone without the key.
"""

from __future__ import annotations

import hashlib
import hmac

from strongroom_core.sealing import bindings, envelopes, keys

_DIGEST_LABEL = b"strongroom.provider-client-secret.digest/v1\x00"


def binding(namespace: str, app: str, provider: str) -> bindings.ProviderSecretBinding:
    return bindings.ProviderSecretBinding(namespace=namespace, app=app, provider=provider)


def seal_client_secret(
    key: keys.DataKey, secret: str, *, namespace: str, app: str, provider: str
) -> str:
    """Seal ``secret`` for ``provider`` of App ``namespace/app`` (normally ``keyring.active``)."""
    aad = binding(namespace, app, provider).associated_data()
    return envelopes.seal(key, secret.encode("utf-8"), aad)


def open_client_secret(
    keyring: keys.Keyring, blob: str, *, namespace: str, app: str, provider: str
) -> str:
    """Open a sealed client secret. ``UnknownKeyError`` means: fetch the App keys again."""
    aad = binding(namespace, app, provider).associated_data()
    return envelopes.open_envelope(keyring, blob, aad).decode("utf-8")


def secret_digest(key: keys.DataKey, secret: str) -> str:
    """A keyed digest of ``secret`` for the policy digest (stable across compiles)."""
    mac = hmac.new(key.material, _DIGEST_LABEL + secret.encode("utf-8"), hashlib.sha256)
    return f"{key.kid}:{mac.hexdigest()}"
