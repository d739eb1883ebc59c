"""The harness's own tests use the shared OAuth server fixtures."""

from tests.support.fixtures import (  # noqa: F401
    _shared_browser_closes_at_session_end,
    oauth_server,
    oauth_server_factory,
)
