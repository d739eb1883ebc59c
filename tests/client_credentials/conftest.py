"""Fixtures of the client-credentials tests: tests/sidecar's control plane, storage and sidecar
factory, the real OAuth server from tests/support, and harness.py's deployment and API."""

from tests.client_credentials.harness import deployment, verifying_api  # noqa: F401
from tests.sidecar.conftest import (  # noqa: F401
    control_plane,
    http,
    make_sidecar,
    root_keyring,
    storage,
)
from tests.support.fixtures import oauth_server, oauth_server_factory  # noqa: F401
