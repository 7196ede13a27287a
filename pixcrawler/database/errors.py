"""Database errors reduced to the one line an operator reads."""


def first_line(error: BaseException) -> str:
    """The first line of an error's message; a SQLAlchemy DBAPIError speaks through its driver.

    Never empty: an error without a message is named by its class.
    """
    source = getattr(error, "orig", None) or error
    lines = str(source).strip().splitlines()
    return lines[0] if lines else type(source).__name__
