"""Errors raised through the storage port."""


class StorageError(Exception):
    """Base class for storage failures."""


class ConflictError(StorageError):
    """A compare-and-swap lost: the stored version is not the expected one (HTTP 409)."""

    def __init__(self, what: str, expected: int | None, actual: int | None) -> None:
        super().__init__(f"{what}: expected version {expected}, stored version is {actual}")
        self.what = what
        self.expected = expected
        self.actual = actual


class NotFoundError(StorageError):
    """The record does not exist (HTTP 404)."""


class AlreadyExistsError(StorageError):
    """A create found a record already there (HTTP 409)."""
