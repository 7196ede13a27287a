"""Model plumbing shared by every model, the lowest layer: it imports nothing else of the app.

- `base`: the declarative base and its constraint naming convention;
- `types`: portable column types; `mixins`: column groups; `constraints`: CHECKs written once;
- `sqlite`: SQLite connections that enforce foreign keys and really BEGIN;
- `urls`: DATABASE_URL normalisation and `mask`; `errors`: a database error in one line.

How migrations run is `pixcrawler.migrator`, one layer up.
"""

from pixcrawler.database.base import NAMING_CONVENTION, Base
from pixcrawler.database.mixins import TimestampMixin
from pixcrawler.database.types import JSONType, UTCDateTime, id_bigint

__all__ = ["NAMING_CONVENTION", "Base", "JSONType", "TimestampMixin", "UTCDateTime", "id_bigint"]
