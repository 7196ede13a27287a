"""Model plumbing shared by every model: the declarative base, column types and mixins."""

from pixcrawler.database.base import NAMING_CONVENTION, Base
from pixcrawler.database.mixins import TimestampMixin
from pixcrawler.database.types import JSONType, UTCDateTime, id_bigint

__all__ = ["NAMING_CONVENTION", "Base", "JSONType", "TimestampMixin", "UTCDateTime", "id_bigint"]
