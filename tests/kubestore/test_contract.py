"""The storage port's contract, over SQLite and over the Kubernetes storage on the emulator."""

from __future__ import annotations

from tests import storage_contract


class TestStoragePort(storage_contract.StorageContract):
    pass
