"""The harness's own tests use the shared OAuth server fixtures."""

from tests.support.fixtures import oauth_server, oauth_server_factory  # noqa: F401
