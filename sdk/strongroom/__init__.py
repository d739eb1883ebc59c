"""Strongroom SDK: call third-party APIs through the Strongroom sidecar.

The sidecar next to your app holds the credentials; this package only tells it which API to call,
with which grant and on whose behalf, and hands back the `httpx.Response`::

    import strongroom

    with strongroom.App(provider="github", user_token=end_user_jwt) as app:
        response = app.get("https://api.github.com/user", reason="show profile")
"""

from strongroom._async_client import AsyncApp
from strongroom._client import App
from strongroom._exceptions import (
    AmbiguousGrant,
    AuditUnavailable,
    CredentialUnavailable,
    GrantNotFound,
    GrantRevoked,
    IdentityRequired,
    InvalidRequest,
    PolicyDenied,
    ReauthorizationRequired,
    SidecarError,
    SidecarUnavailable,
    StrongroomError,
    UpstreamError,
    UsageError,
)
from strongroom._version import __version__

__all__ = [
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

# Public names report the public module, as httpx does, so tracebacks and docs say
# "strongroom.PolicyDenied" rather than a private path.
for _name in __all__:
    if not _name.startswith("__"):
        globals()[_name].__module__ = "strongroom"
del _name
