"""Dev-mode fixtures (tests/devfixtures.py) for the tests in this folder."""

from tests.devfixtures import dev_env, dev_folder, echo_port

__all__ = ["dev_env", "dev_folder", "echo_port"]
