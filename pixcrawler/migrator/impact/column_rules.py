"""When a column change makes PostgreSQL copy the whole table, and when it only edits the catalog.

Two rules decide most of the cost of an ALTER TABLE on a big table:

- `ALTER COLUMN … TYPE` rewrites the table unless the old values are already valid values of the
  new type, bit for bit (PostgreSQL calls the cast binary-coercible): varchar(50) to
  varchar(100) or to text, a numeric or a timestamp that gains precision. Anything else,
  int to bigint included, copies every row and rebuilds every index.
- `ADD COLUMN … DEFAULT x` stores `x` once in the catalog (PostgreSQL 11+) when `x` gives the
  same value for every row: a constant, or a stable function such as now(), which is
  evaluated once. A volatile one (random(), clock_timestamp(), gen_random_uuid(), the nextval
  behind serial and identity columns) must be computed per row, so the table is rewritten.

Each answer is True (rewrite), False (catalog only) or None: not known, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from pglast import ast

from pixcrawler.migrator.impact.syntax import dotted, function_names, type_name, walk

SERIAL = frozenset({"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"})

# pg_proc.provolatile of the functions defaults usually call, for when there is no server to
# ask (SQLite, or none reachable): 'v' volatile, 's' stable, 'i' immutable.
KNOWN_VOLATILITY: dict[str, str] = {
    **dict.fromkeys(
        (
            "random",
            "random_normal",
            "clock_timestamp",
            "timeofday",
            "gen_random_uuid",
            "uuid_generate_v1",
            "uuid_generate_v1mc",
            "uuid_generate_v4",
            "gen_random_bytes",
            "nextval",
            "setval",
            "currval",
            "lastval",
            "txid_current",
            "pg_current_xact_id",
        ),
        "v",
    ),
    **dict.fromkeys(
        ("now", "transaction_timestamp", "statement_timestamp", "current_setting", "to_char"),
        "s",
    ),
    **dict.fromkeys(("lower", "upper", "length", "md5", "abs", "concat_ws"), "i"),
}

# Types whose length or precision modifier may grow without a rewrite (a NULL modifier, no
# limit, counts as the largest).
GROWS_FREELY = frozenset({"varchar", "varbit", "timestamp", "timestamptz", "time", "timetz"})
TEXT_LIKE = frozenset({"text", "varchar"})


@dataclass(frozen=True)
class ColumnType:
    """A column's type as PostgreSQL's parser reads it: `varchar` with (50), `int8`, …"""

    name: str
    modifiers: tuple[int, ...] = ()
    array: bool = False

    @classmethod
    def of(cls, node: ast.TypeName) -> ColumnType:
        modifiers = tuple(
            getattr(getattr(mod, "val", None), "ival", -1) for mod in node.typmods or ()
        )
        return cls(dotted(node.names)[-1].lower(), modifiers, bool(node.arrayBounds))

    @classmethod
    def parse(cls, text: str) -> ColumnType:
        """From `format_type()` text: 'character varying(50)' is varchar with (50)."""
        return _parsed(text)

    def __str__(self) -> str:
        mods = f"({', '.join(map(str, self.modifiers))})" if self.modifiers else ""
        return f"{self.name}{mods}{'[]' if self.array else ''}"


@cache
def _parsed(text: str) -> ColumnType:
    return ColumnType.of(type_name(text))


def type_change_rewrites(
    old: ColumnType | None,
    new: ColumnType,
    using: ast.Node | None,
    column: str,
    utc: bool | None,
) -> bool | None:
    """Does `ALTER COLUMN column TYPE new [USING using]` rewrite a table whose column is `old`?

    `utc`: whether the session's TimeZone is UTC, which makes timestamp <-> timestamptz
    catalog-only (PostgreSQL 12+); None when there is no server to ask.
    """
    if using is not None and not _is_plain_column(using, column, new):
        return True  # an expression of the old value: computed for every row
    if old is None:
        return None
    if old == new:
        return False
    if old.array or new.array:
        return None if old.array == new.array else True
    if old.name == new.name:
        return not _modifier_grows(old, new)
    if old.name in TEXT_LIKE and new.name == "text":
        return False
    if old.name == "text" and new.name == "varchar":
        return bool(new.modifiers)  # a limit must be checked against every value
    if (old.name, new.name) == ("cidr", "inet"):
        return False
    if {old.name, new.name} == {"timestamp", "timestamptz"}:
        return None if utc is None else not utc
    return True


def _modifier_grows(old: ColumnType, new: ColumnType) -> bool:
    if not new.modifiers:
        return old.name in GROWS_FREELY or old.name == "numeric"
    if not old.modifiers:
        return False
    if old.name in GROWS_FREELY:
        return new.modifiers[0] >= old.modifiers[0]
    if old.name == "numeric":
        old_scale = old.modifiers[1] if len(old.modifiers) > 1 else 0
        new_scale = new.modifiers[1] if len(new.modifiers) > 1 else 0
        return new.modifiers[0] >= old.modifiers[0] and new_scale == old_scale
    return False


def _is_plain_column(expression: ast.Node, column: str, new: ColumnType) -> bool:
    """USING col, or USING col::new: the same as no USING."""
    if isinstance(expression, ast.TypeCast):
        if ColumnType.of(expression.typeName) != new:
            return False
        expression = expression.arg
    return isinstance(expression, ast.ColumnRef) and dotted(expression.fields)[-1] == column


def default_rewrites(
    expression: ast.Node | None, volatility: Mapping[str, str] | None
) -> bool | None:
    """Does a new column with this DEFAULT rewrite the table? `volatility` maps function names
    to pg_proc.provolatile, read from the server; None uses KNOWN_VOLATILITY."""
    if expression is None:
        return False
    if any(isinstance(node, ast.SubLink) for node in walk(expression)):
        return None
    table = KNOWN_VOLATILITY if volatility is None else volatility
    kinds = [table.get(name) for name in function_names(expression)]
    if "v" in kinds:
        return True
    if None in kinds:
        return None
    return False
