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


class RevisionGoneError(StorageError):
    """A watcher asked to resume from a revision the change log no longer holds (it was pruned,
    or the store was reset and the revision is in its future). The caller must resynchronise
    from a fresh snapshot (HTTP 410)."""

    def __init__(self, since: int, oldest: int, newest: int) -> None:
        super().__init__(
            f"revision {since} is no longer in the change log (it holds revisions after {oldest}"
            f" up to {newest}); start again from a snapshot (since=0)"
        )
        self.since = since
        self.oldest = oldest
        self.newest = newest
