"""Realistic demo data for demos and benchmarks (`flask seed`), deterministic for a given seed."""

from pixcrawler.services.seed.rows import (
    IMAGE_COLUMNS,
    SeedError,
    SeedPlan,
    image_copy_line,
    seed_database,
)

__all__ = ["IMAGE_COLUMNS", "SeedError", "SeedPlan", "image_copy_line", "seed_database"]
