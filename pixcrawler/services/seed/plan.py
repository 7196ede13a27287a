"""How much demo data a `flask seed` run adds, and the checks that make the counts consistent."""

from __future__ import annotations

from dataclasses import dataclass


class SeedError(ValueError):
    """The requested counts cannot be satisfied (e.g. images but no crawl jobs)."""


@dataclass(frozen=True)
class SeedPlan:
    """How much demo data to add, and the seed that makes it reproducible."""

    profiles: int = 10
    projects: int = 25
    jobs: int = 60
    images: int = 5_000
    seed: int = 1

    def check(self) -> None:
        """Refuse counts that would need parents that are not there."""
        for name in ("profiles", "projects", "jobs", "images"):
            if getattr(self, name) < 0:
                raise SeedError(f"--{name} must not be negative")
        if self.projects and not self.profiles:
            raise SeedError("projects need owners: --profiles must be at least 1")
        if self.jobs and not self.projects:
            raise SeedError("crawl jobs need projects: --projects must be at least 1")
        if self.images and not self.jobs:
            raise SeedError("images need crawl jobs: --jobs must be at least 1")
