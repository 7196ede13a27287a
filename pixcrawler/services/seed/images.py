"""The images of a seed: one row per image, generated on demand, so a million never sit in
memory; each from the host, format and size mix of `vocabulary`, with URLs shaped like the
ones each host really serves."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import timedelta

from pixcrawler.services.seed.state import _Job, _State
from pixcrawler.services.seed.vocabulary import (
    ANCHOR,
    BYTES_PER_PIXEL,
    FORMAT_WEIGHTS,
    FORMATS,
    HOST_WEIGHTS,
    HOSTS,
    SIZES,
    STORAGE_BASE,
)

DUPLICATE_RATE = 0.02


def image_rows(jobs: list[_Job], rng: random.Random, state: _State) -> Iterator[tuple]:
    """One tuple per image of `jobs`, generated on demand: a million never sit in memory.
    Ids continue from `state`, which is left at the next free one."""
    next_id = state.next_ids["images"]
    choices, getrandbits, random_ = rng.choices, rng.getrandbits, rng.random
    for job in jobs:
        if not job.images:
            continue
        span = ((job.completed_at or ANCHOR) - job.started_at).total_seconds()
        valid_left, previous_hash = job.valid, None
        step = span / job.images
        hosts = choices(HOSTS, HOST_WEIGHTS, k=job.images)
        formats = choices(FORMATS, FORMAT_WEIGHTS, k=job.images)
        sizes = choices(SIZES, k=job.images)
        slugs = [(keyword, keyword.replace(" ", "-")) for keyword in job.keywords]
        storage = f"{STORAGE_BASE}/job-{job.id}/"
        started, second, at = job.started_at, -1, job.started_at
        for k in range(job.images):
            keyword, slug = slugs[k % len(slugs)]
            ext = formats[k]
            width, height = sizes[k]
            filename = f"{slug}_{k + 1:06d}.{ext}"
            url = _source_url(hosts[k], slug, ext, getrandbits)
            size = int(width * height * BYTES_PER_PIXEL[ext] * (0.6 + 0.8 * random_()))
            duplicate = previous_hash is not None and random_() < DUPLICATE_RATE
            digest = previous_hash if duplicate else f"{getrandbits(256):064x}"
            previous_hash = digest
            # Selection sampling: exactly job.valid of the job's images end up valid.
            valid = random_() * (job.images - k) < valid_left
            valid_left -= valid
            if int(step * k) != second:  # images a second apart share one datetime object
                second = int(step * k)
                at = started + timedelta(seconds=second)
            yield (
                next_id, job.id, url, filename, storage + filename,
                width, height, size, ext, digest, valid, duplicate,
                [keyword] if valid else None,
                {"source": hosts[k], "keyword": keyword, "rank": k + 1}, at, at,
            )  # fmt: skip
            next_id += 1
    state.next_ids["images"] = next_id


def _source_url(host: str, slug: str, ext: str, getrandbits: Callable[[int], int]) -> str:
    """A URL shaped like the ones each image host really serves."""
    if host == "unsplash":
        return (
            f"https://images.unsplash.com/photo-{1_500_000_000_000 + getrandbits(36)}"
            f"-{getrandbits(48):012x}?w=1600&fm={ext}"
        )
    if host == "wikimedia":
        digest = f"{getrandbits(8):02x}"
        name = slug.replace("-", "_").capitalize()
        return (
            f"https://upload.wikimedia.org/wikipedia/commons/{digest[0]}/{digest}/"
            f"{name}_{getrandbits(20)}.{ext}"
        )
    if host == "flickr":
        return (
            f"https://live.staticflickr.com/{65_000 + getrandbits(10)}/"
            f"{52_000_000_000 + getrandbits(30)}_{getrandbits(40):010x}_b.{ext}"
        )
    if host == "pixabay":
        return (
            f"https://cdn.pixabay.com/photo/2026/0{1 + getrandbits(2)}/1{getrandbits(3)}/"
            f"{slug}-{1_000_000 + getrandbits(22)}_1280.{ext}"
        )
    digest = f"{getrandbits(128):032x}"
    return (
        f"https://i.pinimg.com/originals/{digest[:2]}/{digest[2:4]}/{digest[4:6]}/{digest}.{ext}"
    )
