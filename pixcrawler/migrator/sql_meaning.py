"""Whether two spellings of a SQL condition or default mean the same, and how they differ.

Drift detection compares what the models declare with what the database stores, and the two
are rarely spelled alike. SQLite keeps the text a migration wrote (`status IN ('a', 'b')`);
PostgreSQL keeps a parsed tree and prints it back its own way
(`((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))`),
and prints it differently again after a column's type changed. So on PostgreSQL the server
renders the models' side too (see `compare`), and both renderings come here.

`canonical()` reduces a rendering to tokens that ignore what does not change the meaning:
case and spacing, redundant parentheses, casts between string types (`::text`,
`::character varying(20)`, their arrays), the order of a list of literals (`IN ('b', 'a')`),
and PostgreSQL's synonyms for the transaction's start time (`now()`, `CURRENT_TIMESTAMP`,
`transaction_timestamp()`, equivalent per PostgreSQL's documentation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*"|`[^`]*`)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<symbol>::|<=|>=|<>|!=|==|\|\||[-+*/%<>=(),\[\].;~^&|!])
    """,
    re.VERBOSE,
)
SAME_OPERATOR = {"!=": "<>", "==": "="}
STRING_TYPES = frozenset({"text", "varchar", "character", "char", "bpchar", "name"})
NOW_FUNCTIONS = frozenset({"now", "transaction_timestamp"})
OPENERS = {"(": ")", "[": "]"}

# A cast between string types, as PostgreSQL prints it: ::text, ::character varying(20)[].
STRING_CAST = re.compile(
    r"::(?:text|character varying|varchar|character|bpchar|char|name)(?:\(\d+\))?(?:\[\])?"
)


@dataclass(frozen=True)
class Token:
    kind: str  # "name", "str", "num" or "sym"
    value: str


@dataclass(frozen=True)
class Group:
    opener: str  # "(" or "["
    items: tuple  # of Token and Group


class Unreadable(ValueError):
    """Text that is not a SQL expression this module can take apart."""


def tokens(sql: str) -> list[Token]:
    found = []
    position = 0
    while position < len(sql):
        match = TOKEN.match(sql, position)
        if match is None:
            raise Unreadable(f"cannot read {sql[position : position + 20]!r}")
        position = match.end()
        kind, text = match.lastgroup, match.group()
        if kind == "space":
            continue
        if kind == "string":
            found.append(Token("str", text[1:-1].replace("''", "'")))
        elif kind == "quoted":
            found.append(Token("name", text[1:-1]))
        elif kind == "number":
            found.append(Token("num", _number(text)))
        elif kind == "word":
            found.append(Token("name", text.lower()))
        else:
            found.append(Token("sym", SAME_OPERATOR.get(text, text)))
    return found


def _number(text: str) -> str:
    value = float(text)
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def tree(sql: str) -> tuple:
    """The tokens of `sql`, parenthesised and bracketed parts nested as Groups."""
    stack: list[tuple[str | None, list]] = [(None, [])]
    for token in tokens(sql):
        if token.kind == "sym" and token.value in OPENERS:
            stack.append((token.value, []))
        elif token.kind == "sym" and token.value in (")", "]"):
            opener, items = stack.pop() if len(stack) > 1 else (None, None)
            if opener is None or OPENERS[opener] != token.value:
                raise Unreadable(f"unbalanced {token.value!r} in {sql!r}")
            stack[-1][1].append(Group(opener, tuple(items)))
        else:
            stack[-1][1].append(token)
    if len(stack) != 1:
        raise Unreadable(f"unbalanced parentheses in {sql!r}")
    return tuple(stack[0][1])


def canonical(sql: str, sort_lists: bool = True) -> tuple:
    """A form of `sql` equal for every spelling of the same condition or default."""
    try:
        items = tree(sql)
    except Unreadable:
        return (Token("raw", " ".join(sql.split()).lower()),)
    items = _simplify(items, sort_lists)
    while len(items) == 1 and isinstance(items[0], Group) and items[0].opener == "(":
        items = items[0].items
    return items


def same_meaning(first: str, second: str) -> bool:
    return canonical(first) == canonical(second)


def _simplify(items: tuple, sort_lists: bool) -> tuple:
    out: list = []
    position = 0
    while position < len(items):
        item = items[position]
        if isinstance(item, Group):
            inner = _simplify(item.items, sort_lists)
            if item.opener == "(" and len(inner) == 1:
                out.append(inner[0])  # (x) is x
            else:
                out.append(Group(item.opener, _sorted_literals(inner) if sort_lists else inner))
        elif item == Token("sym", "::") and _is_string_type(items, position + 1):
            position = _skip_type(items, position + 1)
            continue
        elif item.kind == "name" and item.value in NOW_FUNCTIONS and _empty_call(items, position):
            out.append(Token("name", "current_timestamp"))
            position += 2
            continue
        else:
            out.append(item)
        position += 1
    return tuple(out)


def _is_string_type(items: tuple, position: int) -> bool:
    if position >= len(items) or not isinstance(items[position], Token):
        return False
    word = items[position].value
    if word == "character" and _word_at(items, position + 1) == "varying":
        return True
    return word in STRING_TYPES


def _skip_type(items: tuple, position: int) -> int:
    """The position after a type name, its length and an array marker."""
    if _word_at(items, position) == "character" and _word_at(items, position + 1) == "varying":
        position += 1
    position += 1
    if (
        position < len(items)
        and isinstance(items[position], Group)
        and items[position].opener == "("
    ):
        position += 1
    if position < len(items) and items[position] == Group("[", ()):
        position += 1
    return position


def _word_at(items: tuple, position: int) -> str | None:
    if position < len(items) and isinstance(items[position], Token):
        return items[position].value
    return None


def _empty_call(items: tuple, position: int) -> bool:
    return position + 1 < len(items) and items[position + 1] == Group("(", ())


def _literal_list(items: tuple) -> list[Token] | None:
    """The literals of `'a', 'b', 3`, or None when `items` is anything else."""
    literals = list(items[0::2])
    commas = items[1::2]
    if not literals or any(c != Token("sym", ",") for c in commas):
        return None
    if not all(isinstance(x, Token) and x.kind in ("str", "num") for x in literals):
        return None
    return literals


def _sorted_literals(items: tuple) -> tuple:
    literals = _literal_list(items)
    if literals is None or len(literals) < 2:
        return items
    ordered = sorted(literals, key=lambda t: (t.kind, t.value))
    joined: list = []
    for literal in ordered:
        joined += [Token("sym", ","), literal] if joined else [literal]
    return tuple(joined)


# --- how two conditions differ, for people ------------------------------------------------


@dataclass(frozen=True)
class ValueList:
    """A condition built around one list of literals, e.g. `status IN ('a', 'b')`."""

    shape: tuple  # the canonical condition with the list left out
    values: tuple[str, ...]


def value_list(sql: str, keep_order: bool = False) -> ValueList | None:
    """The list of allowed values in `sql`, when it has exactly one (sorted, unless asked to
    keep the order)."""
    lists: list[list[Token]] = []

    def without_lists(items: tuple) -> tuple:
        out = []
        for item in items:
            if isinstance(item, Group):
                literals = _literal_list(item.items)
                if literals is not None and len(literals) > 1:
                    lists.append(literals)
                    out.append(Group(item.opener, (Token("sym", "…"),)))
                    continue
                out.append(Group(item.opener, without_lists(item.items)))
            else:
                out.append(item)
        return tuple(out)

    shape = without_lists(canonical(sql, sort_lists=not keep_order))
    if len(lists) != 1:
        return None
    return ValueList(shape, tuple(_show(t) for t in lists[0]))


def _show(token: Token) -> str:
    if token.kind == "str":
        return "'" + token.value.replace("'", "''") + "'"
    return token.value


def names_in(sql: str) -> set[str]:
    """Every bare name in `sql` (columns, functions and keywords alike), lower-cased."""
    try:
        return {t.value for t in tokens(sql) if t.kind == "name"}
    except Unreadable:
        return set()


def readable(sql: str) -> str:
    """`sql` as people write it: no string casts, no parentheses around the whole."""
    text = STRING_CAST.sub("", " ".join(sql.split()))
    text = re.sub(r"\(('(?:[^']|'')*')\)", r"\1", text)  # ('a') is 'a'
    text = re.sub(r"(?<![\w)])\((\w+)\)", r"\1", text)  # (status) is status, not now()
    while text.startswith("(") and text.endswith(")") and _wraps(text):
        text = text[1:-1].strip()
    return text


def _wraps(text: str) -> bool:
    """Whether the first parenthesis of `text` closes at its very end."""
    depth = 0
    in_string = False
    for position, char in enumerate(text):
        if char == "'":
            in_string = not in_string
        elif not in_string and char == "(":
            depth += 1
        elif not in_string and char == ")":
            depth -= 1
            if depth == 0:
                return position == len(text) - 1
    return False
