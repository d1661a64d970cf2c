"""The lake: Delta Lake tables under one schema module, one class that owns every write."""

from wirestance.lake.schema import SCHEMA_VERSION
from wirestance.lake.store import Lake, ReadOnlyLakeError, WriteCounts

__all__ = ["SCHEMA_VERSION", "Lake", "ReadOnlyLakeError", "WriteCounts"]
