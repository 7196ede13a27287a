"""Realistic demo data for demos and benchmarks (`flask seed`), deterministic for a given seed.

Everything is generated from one `random.Random` and a fixed anchor date, never from the clock,
so the same seed on the same starting database gives the same rows byte for byte. Ids are given
explicitly (continuing after the rows already there) so images can point at their crawl jobs
without a round trip; the PostgreSQL sequences are advanced afterwards.

- `plan`: how much to add (SeedPlan), checked before anything runs;
- `vocabulary`: names, themes, hosts, formats and the weights of their mix;
- `state`: the ids to continue from, and the crawl jobs later tables build on;
- `rows`: every table's rows but the images, parents first; `images`: the images, on demand;
- `columns`: each table's columns, in the order of its row tuples;
- `copy_encoding`: generated images as COPY lines, PostgreSQL's fast path;
- `writing`: `seed_database`, one transaction for the whole seed.
"""

from pixcrawler.services.seed.columns import IMAGE_COLUMNS
from pixcrawler.services.seed.copy_encoding import image_copy_line
from pixcrawler.services.seed.plan import SeedError, SeedPlan
from pixcrawler.services.seed.writing import seed_database

__all__ = ["IMAGE_COLUMNS", "SeedError", "SeedPlan", "image_copy_line", "seed_database"]
