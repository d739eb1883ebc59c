"""The emulator's own tests use the shared ``kube`` fixture."""

from tests.kube.fixtures import kube

__all__ = ["kube"]
