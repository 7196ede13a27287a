"""docs/promises.md names, for each of README's promises, the tests that prove it, and
tests/mutations.py names the tests that must catch each breakage: every test they name must
exist, so neither list can point at a test that was renamed or removed."""

from __future__ import annotations

import ast
import re
from functools import cache

from tests import mutations
from tests.conftest import REPO_ROOT

PROMISES = REPO_ROOT / "docs" / "promises.md"
NAMED_TEST = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


@cache
def defined_tests(path: str) -> frozenset[str]:
    """The test functions a file defines, at module level or in a class."""
    tree = ast.parse((REPO_ROOT / path).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test_"
        ):
            found.add(node.name)
    return frozenset(found)


def missing(named: list[tuple[str, str]]) -> list[str]:
    absent = []
    for path, name in named:
        if not (REPO_ROOT / path).is_file():
            absent.append(f"{path} (no such file)")
        elif name not in defined_tests(path):
            absent.append(f"{path}::{name}")
    return absent


def test_readme_links_the_table_of_promises():
    assert "docs/promises.md" in (REPO_ROOT / "README.md").read_text()


def test_every_test_the_table_names_exists():
    named = NAMED_TEST.findall(PROMISES.read_text())
    assert len(named) > 100  # the table was read, not skipped
    assert missing(named) == []


def test_every_benchmark_the_table_names_exists():
    scripts = re.findall(r"`(benchmarks/\w+\.py)`", PROMISES.read_text())
    assert scripts
    assert [s for s in scripts if not (REPO_ROOT / s).is_file()] == []


def test_every_test_a_mutation_names_exists_and_every_text_is_found():
    named = [
        (node.split("::")[0], node.split("::")[1].split("[")[0])
        for entry in mutations.MUTATIONS
        for node in entry.tests
    ]
    assert missing(named) == []
    assert mutations.check_entries(mutations.MUTATIONS) == []
