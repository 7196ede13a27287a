"""Generated images as COPY text lines, written directly: the seed's fast path on PostgreSQL."""

from __future__ import annotations

from typing import Any

# The last timestamp formatted: consecutive images often share the same datetime object.
_last_timestamp: list[Any] = [None, ""]


def image_copy_line(row: tuple) -> str:
    """One generated image as a COPY text line: a single f-string instead of 16 conversions.

    Only for rows from `image_rows`: their text is built from slugs, hex digits and fixed hosts,
    so nothing needs COPY escaping, and the JSON shapes are known (a test checks that this
    matches the generic converters).
    """
    (image_id, job_id, url, filename, storage_url, width, height, size, ext, digest, valid,
     duplicate, labels, metadata, downloaded_at, created_at) = row  # fmt: skip
    labels_text = f'["{labels[0]}"]' if labels else r"\N"
    metadata_text = (
        f'{{"source":"{metadata["source"]}","keyword":"{metadata["keyword"]}",'
        f'"rank":{metadata["rank"]}}}'
    )
    if downloaded_at is not _last_timestamp[0]:
        _last_timestamp[:] = [downloaded_at, downloaded_at.isoformat()]
    downloaded = _last_timestamp[1]
    created = downloaded if created_at is downloaded_at else created_at.isoformat()
    return (
        f"{image_id}\t{job_id}\t{url}\t{filename}\t{storage_url}\t{width}\t{height}\t{size}\t"
        f"{ext}\t{digest}\t{'t' if valid else 'f'}\t{'t' if duplicate else 'f'}\t"
        f"{labels_text}\t{metadata_text}\t{downloaded}\t{created}\n"
    )
