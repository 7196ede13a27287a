"""No silent skips under CI: a missing PostgreSQL, browser or test dependency fails there, and no
test skips by any other path than tests/skips.py."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO_ROOT
from tests.skips import import_or_skip, skip_unless_ci

# pytest's own ways to skip; only tests/skips.py may call them.
SKIP_CALLS = re.compile(r"pytest\.(skip|importorskip)\(|mark\.skip(if)?\b|pytest\.xfail\(")


@pytest.mark.parametrize("ci", ["true", "TRUE"])
def test_under_ci_a_skip_is_a_failure(monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL tests must run under CI=true"):
        skip_unless_ci("PostgreSQL", "TEST_DATABASE_URL is not set")
    with pytest.raises(pytest.fail.Exception, match="no_such_module_for_pixcrawler"):
        import_or_skip("no_such_module_for_pixcrawler", "The browser")


@pytest.mark.parametrize("ci", [None, "", "false"])
def test_outside_ci_it_is_a_skip(monkeypatch, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="TEST_DATABASE_URL is not set"):
        skip_unless_ci("PostgreSQL", "TEST_DATABASE_URL is not set")
    with pytest.raises(pytest.skip.Exception):
        import_or_skip("no_such_module_for_pixcrawler", "The browser")


def test_every_skip_in_the_suite_goes_through_the_ci_check():
    helper = REPO_ROOT / "tests" / "skips.py"
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
        for path in sorted((REPO_ROOT / "tests").rglob("*.py"))
        if path not in (helper, REPO_ROOT / "tests" / "test_skips.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SKIP_CALLS.search(line)
    ]
    assert offenders == [], "skip through tests/skips.py instead:\n" + "\n".join(offenders)
