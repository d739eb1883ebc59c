"""Fixtures of the refresh tests: tests/sidecar's control plane, storage and sidecar factory,
harness.py's provider, API and world, storages.py's storage of either kind, the real OAuth
server's from tests/support."""

from tests.refresh.harness import api, token_endpoint, world  # noqa: F401
from tests.refresh.storages import race_storage  # noqa: F401
from tests.sidecar.conftest import (  # noqa: F401
    control_plane,
    http,
    make_sidecar,
    root_keyring,
    storage,
)
from tests.support.fixtures import oauth_server, oauth_server_factory  # noqa: F401
