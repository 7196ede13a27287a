"""The code's layers stack one way, and no import goes round in a circle (README, "How the code
is laid out").

`lint-imports` checks pyproject.toml's contracts, as .ci/run does: the layers, and no circle
between the modules or subpackages of one package. Those contracts compare siblings, so they
cannot see a package's `__init__` and one of its own modules importing each other; grimp's
graph (the one import-linter builds) shows every circle between single modules, that one too.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import grimp

from tests.conftest import REPO_ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def circles(package: str) -> list[str]:
    """One line per import that is part of a circle: `a -> b`, then the way from b back to a.
    Imports under `if TYPE_CHECKING:` are left out, as in pyproject.toml: they never run."""
    graph = grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                found.append(f"{importer} -> {' -> '.join(back)}")
    return found


def test_the_contracts_in_pyproject_are_kept():
    result = subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_no_module_is_part_of_an_import_circle():
    assert circles("pixcrawler") == []


def test_a_circle_through_a_package_init_is_found(tmp_path, monkeypatch):
    """What the contracts cannot see: a module that imports its own package's `__init__`,
    which imports it back."""
    package = tmp_path / "circular_example"
    package.mkdir()
    (package / "__init__.py").write_text("from circular_example.part import VALUE\n")
    (package / "part.py").write_text(
        textwrap.dedent(
            """
            import circular_example

            VALUE = 1
            """
        )
    )
    (package / "alone.py").write_text("import json\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert circles("circular_example") == [
        "circular_example -> circular_example.part -> circular_example",
        "circular_example.part -> circular_example -> circular_example.part",
    ]
