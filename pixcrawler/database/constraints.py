"""CHECK constraints written once, so a bad state is refused by the database itself."""

from collections.abc import Iterable

import sqlalchemy as sa


def one_of(column: str, values: Iterable[str]) -> sa.CheckConstraint:
    """`column` holds one of `values` (named `<column>` under the naming convention)."""
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=column)


def percentage(column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} BETWEEN 0 AND 100", name=f"{column}_range")


def non_negative(*columns: str) -> list[sa.CheckConstraint]:
    return [sa.CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative") for c in columns]
