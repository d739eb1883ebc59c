"""One App with an OAuth2 provider, a system grant and a sidecar, ready for a refresh test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strongroom_sidecar import app as sidecar_app
from tests.refresh import harness
from tests.refresh import provider as provider_module


@dataclass
class Scenario:
    world: harness.RefreshWorld
    endpoint: provider_module.TokenEndpoint
    api: provider_module.Api
    first: provider_module.Issued
    """The credential the grant starts with."""


async def prepare(
    world: harness.RefreshWorld,
    endpoint: provider_module.TokenEndpoint,
    api: provider_module.Api,
    *,
    expires_in: float = -1.0,
    auth_method: str = "client_secret_basic",
    margin: int = 0,
    token_response: dict[str, str] | None = None,
    with_secret: bool = True,
    scopes: tuple[str, ...] = (),
    credential: dict[str, str] | None = None,
) -> Scenario:
    """Provider and grant in storage; the grant's token expires ``expires_in`` seconds from now
    (already expired by default)."""
    sealed = await world.seal_secret(endpoint.client_secret) if with_secret else None
    await world.add_provider(
        harness.oauth2_provider(
            api.port,
            endpoint.url,
            auth_method=auth_method,
            margin=margin,
            token_response=token_response,
            sealed_secret=sealed,
        )
    )
    first = endpoint.issue(ttl=expires_in)
    await world.add_grant(credential or endpoint.credential(first), scopes=scopes)
    return Scenario(world, endpoint, api, first)


def sidecar_settings(**overrides: Any) -> dict[str, Any]:
    """Short timeouts so failure paths finish quickly; a test passes its own on top."""
    values: dict[str, Any] = {
        "refresh_timeout": 2.0,
        "refresh_lease": 4.0,
        "refresh_backoff_initial": 0.2,
        "refresh_backoff_max": 1.0,
    }
    values.update(overrides)
    return values


async def sidecar(make: harness.SidecarFactory, **overrides: Any) -> sidecar_app.Sidecar:
    return await make(**sidecar_settings(**overrides))
