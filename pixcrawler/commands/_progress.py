"""A progress bar for long data commands, shown only to a person watching a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


@contextmanager
def progress_bar(label: str, length: Callable[[], int]) -> Iterator[Callable[[int], None] | None]:
    """Yield the bar's `update` when stderr is a terminal, else None: pipes and logs stay clean.

    `length` is called only when a bar is shown (counting rows costs a query per table).
    """
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=length(), label=label, file=sys.stderr) as bar:
        yield bar.update
