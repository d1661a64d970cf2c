"""The lake: Delta Lake tables under one schema module, one class that owns every write.

`Lake` and its companions are imported from lake.store when first asked for (PEP 562): modules that only
need the schema or what decides between two copies of an article (reprocess worker processes, through
the pipeline and the archive reader) do not load deltalake and pyarrow.dataset, which brings pandas
(~60 MB of a worker's memory, measured 2026-12-06).
"""

from typing import TYPE_CHECKING, Any

from wirestance.lake.outcomes import WriteCounts
from wirestance.lake.schema import SCHEMA_VERSION

if TYPE_CHECKING:
    from wirestance.lake.store import Lake, ReadOnlyLakeError

__all__ = ["SCHEMA_VERSION", "Lake", "ReadOnlyLakeError", "WriteCounts"]
_FROM_STORE = ("Lake", "ReadOnlyLakeError")


def __getattr__(name: str) -> Any:
    if name in _FROM_STORE:
        from wirestance.lake import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
