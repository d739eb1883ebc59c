"""The emulator's own tests use the shared fixtures."""

from tests.kube.fixtures import kube, raw

__all__ = ["kube", "raw"]
