"""The parquet lake: one schema module, one class that owns paths and atomic writes."""

from wirestance.lake.schema import SCHEMA_VERSION
from wirestance.lake.store import Lake, WriteCounts

__all__ = ["SCHEMA_VERSION", "Lake", "WriteCounts"]
