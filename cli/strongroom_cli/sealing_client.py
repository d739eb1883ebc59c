"""Client-side sealing, the one code path shared by `strongroom seal`, `strongroom grant import`
and dev mode's echo credential: the plaintext is sealed to the control plane's public key, bound
to namespace, grant and provider, so it never reaches the API server and cannot be replayed into
another Grant."""

from __future__ import annotations

import json
from collections.abc import Mapping

from strongroom_core.sealing import bindings, publickey


def seal_credential(
    public_pem: str, *, namespace: str, grant: str, provider: str, credential: Mapping[str, str]
) -> str:
    """Seal a credential (a flat object of string fields) for one Grant."""
    for field, value in credential.items():
        if not isinstance(value, str):
            raise ValueError(f"credential field {field!r}: expected a string")
    plaintext = json.dumps(dict(credential), sort_keys=True).encode()
    binding = bindings.ClientSealBinding(namespace=namespace, grant=grant, provider=provider)
    return publickey.seal_to_public_key(public_pem, plaintext, binding)
