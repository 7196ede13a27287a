"""Database errors reduced to the one line an operator reads, and the one kind that is retried
or reported as "locked" rather than failed: PostgreSQL's lock timeout."""

LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a lock_timeout


def is_lock_timeout(error: BaseException) -> bool:
    """A statement gave up waiting for a lock (`lock_timeout`), as PostgreSQL reports it."""
    return getattr(getattr(error, "orig", None), "pgcode", None) == LOCK_NOT_AVAILABLE


def first_line(error: BaseException) -> str:
    """The first line of an error's message; a SQLAlchemy DBAPIError speaks through its driver.

    Never empty: an error without a message is named by its class.
    """
    source = getattr(error, "orig", None) or error
    lines = str(source).strip().splitlines()
    return lines[0] if lines else type(source).__name__
