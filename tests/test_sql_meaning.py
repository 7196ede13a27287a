"""Two spellings of one condition compare equal, two conditions never do: the renderings come
from PostgreSQL 15 (`pg_get_expr`, pretty and plain) and from SQLite's stored text."""

from __future__ import annotations

import pytest

from pixcrawler.migrator.compare import same_default
from pixcrawler.migrator.operations import portable
from pixcrawler.migrator.sql_meaning import readable, same_meaning, value_list

# `status IN ('a', 'b')` on a VARCHAR column, as PostgreSQL prints it after CREATE TABLE, after
# ALTER COLUMN … TYPE varchar(50) (which re-parses it), pretty-printed, and on a TEXT column.
STATUS_AT_CREATE = (
    "((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))"
)
STATUS_AFTER_WIDENING = (
    "((status)::text = ANY (ARRAY[('a'::character varying)::text, "
    "('b'::character varying)::text]))"
)
STATUS_PRETTY = (
    "status::text = ANY (ARRAY['a'::character varying, 'b'::character varying]::text[])"
)
STATUS_ON_TEXT = "(status = ANY (ARRAY['a'::text, 'b'::text]))"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (STATUS_AT_CREATE, STATUS_AFTER_WIDENING),
        (STATUS_AT_CREATE, STATUS_PRETTY),
        (STATUS_AT_CREATE, STATUS_ON_TEXT),
        (
            STATUS_AT_CREATE,
            STATUS_AT_CREATE.replace("'a'", "'x'").replace("'b'", "'a'").replace("'x'", "'b'"),
        ),
        ("status IN ('a', 'b')", "STATUS  in ('b','a')"),
        ("((progress >= 0) AND (progress <= 100))", "(progress >= 0) AND (progress <= 100)"),
        ("max_images > 0", '"max_images" > 0'),
        ("a != 1", "a <> 1"),
        ("now()", "CURRENT_TIMESTAMP"),
        ("transaction_timestamp()", "(CURRENT_TIMESTAMP)"),
        ("'pending'::character varying", "'pending'::text"),
        ("'[]'::jsonb", "('[]'::jsonb)"),
    ],
)
def test_the_same_condition_spelled_two_ways(first, second):
    assert same_meaning(first, second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            STATUS_AT_CREATE,
            STATUS_AT_CREATE.replace("'b'::character varying", "'c'::character varying"),
        ),
        ("status IN ('a', 'b')", "status IN ('a', 'b', 'c')"),
        ("(a OR b) AND c", "a OR (b AND c)"),
        ("a = 'x' OR b = 'y'", "a = 'y' OR b = 'x'"),  # literals keep their places
        ("max_images > 0", "max_images >= 0"),
        ("now()", "clock_timestamp()"),
        ("'1'::integer", "'1'"),  # only casts between string types are ignored
        ('"Status" = 1', "status = 1"),  # a quoted name keeps its case
    ],
)
def test_different_conditions(first, second):
    assert not same_meaning(first, second)


def test_text_it_cannot_read_is_compared_as_it_is():
    assert same_meaning("a = (1", "A =  (1")
    assert not same_meaning("a = (1", "a = (2")


def test_a_lone_literal_default_is_the_same_quoted_or_not():
    assert same_default("'0'", "0")
    assert same_default("'1000'", "1000")
    assert not same_default("'0'", "1")
    assert not same_default("'free'", "'pro'")


def test_the_list_of_allowed_values():
    model = value_list("status IN ('a', 'b', 'c')")
    database = value_list("status IN ('b', 'a')")
    assert model.values == ("'a'", "'b'", "'c'") and model.shape == database.shape
    assert value_list(STATUS_AT_CREATE).values == ("'a'", "'b'")
    assert value_list("a > 0") is None
    assert value_list("a IN (1, 2) AND b IN (3, 4)") is None  # two lists: no single answer


def test_portable_gives_both_backends_a_condition_they_accept():
    assert portable(STATUS_AT_CREATE) == "status IN ('a', 'b')"
    assert portable(STATUS_PRETTY) == "status IN ('a', 'b')"
    assert portable("((b)::text = ANY (ARRAY['z'::text, 'y'::text]))") == "b IN ('z', 'y')"
    assert portable("(max_images > 0)") == "max_images > 0"


def test_readable_drops_casts_and_outer_parentheses_only():
    assert readable("(length((name)::text) > 0)") == "length(name) > 0"
    assert readable("((a > 0) AND (b > 0))") == "(a > 0) AND (b > 0)"
    assert readable("'x'::character varying") == "'x'"
    assert readable("now()") == "now()"
