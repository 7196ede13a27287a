"""`flask seed`: realistic demo data for demos and benchmarks, fast and reproducible."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from pixcrawler.commands._errors import CommandError
from pixcrawler.services.app_tables import SchemaMissingError
from pixcrawler.services.seed import SeedError, SeedPlan, seed_database

DEFAULTS = SeedPlan()
COUNT = click.IntRange(min=0)


@click.command(
    "seed",
    help=(
        "Add realistic demo data: profiles, projects, crawl jobs with their images, validation "
        "and export jobs, activity logs. The same --seed on the same database gives the same "
        "rows. Uses COPY on PostgreSQL.\n\n"
        "Example: flask seed --images 1000000 --seed 7"
    ),
)
@click.option("--profiles", type=COUNT, default=DEFAULTS.profiles, show_default=True,
              help="Profiles (users) to add.")  # fmt: skip
@click.option("--projects", type=COUNT, default=DEFAULTS.projects, show_default=True,
              help="Projects to add, spread over the new profiles.")  # fmt: skip
@click.option("--jobs", type=COUNT, default=DEFAULTS.jobs, show_default=True,
              help="Crawl jobs to add, spread over the new projects.")  # fmt: skip
@click.option("--images", type=COUNT, default=DEFAULTS.images, show_default=True,
              help="Images to add, spread over the crawl jobs that ran.")  # fmt: skip
@click.option("--seed", "seed", type=int, default=DEFAULTS.seed, show_default=True,
              help="Random seed; the same seed reproduces the same data.")  # fmt: skip
@with_appcontext
def command(profiles: int, projects: int, jobs: int, images: int, seed: int) -> None:
    plan = SeedPlan(profiles=profiles, projects=projects, jobs=jobs, images=images, seed=seed)
    try:
        plan.check()
    except SeedError as exc:
        raise CommandError(str(exc)) from None
    started = time.perf_counter()
    try:
        counts = seed_database(plan)
    except SchemaMissingError as exc:
        raise CommandError(str(exc)) from None
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{count} {table}" for table, count in counts.items())
    click.echo(f"Seeded {summary} in {elapsed:.1f} s.")
