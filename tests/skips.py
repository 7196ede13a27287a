"""The one way a test may skip: on a laptop without PostgreSQL, Chromium or a test dependency.

Under `CI=true` the same gap fails the test instead, so CI can never go green by skipping what it
was meant to run. Every skip in the suite goes through here (a test checks that).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """CI=true, as `.ci/run` sets it; read on every call so a test can change it."""
    return os.environ.get("CI", "").lower() == "true"


def skip_unless_ci(what: str, reason: str) -> NoReturn:
    """Skip on a laptop; under CI=true fail, naming what could not run and why."""
    if in_ci():
        pytest.fail(f"{what} tests must run under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def import_or_skip(module: str, what: str) -> ModuleType:
    """pytest.importorskip that fails under CI=true instead of skipping."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        skip_unless_ci(what, f"{module} cannot be imported ({exc})")
