"""What an upsert decides and counts: which of two copies of an article the lake keeps, and how many rows
were new, updated or unchanged. No table access here: worker processes and reports import it without
deltalake (wirestance/lake/__init__.py says why that matters)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


def replaces_stored(
    stored_hash: str, stored_updated: datetime | None, later_hash: str, later_updated: datetime | None
) -> bool:
    """Whether a later copy of a stored article replaces it: its content changed, and it is not older by
    update time (a stale copy of a newer stored version is kept out). wirestance.pipeline.replaces applies
    it to parsed articles."""
    return later_hash != stored_hash and not _older(later_updated, stored_updated)


def _older(candidate: datetime | None, stored: datetime | None) -> bool:
    return candidate is not None and stored is not None and candidate < stored


@dataclass
class WriteCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    paragraphs_written: int = 0

    def __iadd__(self, other: WriteCounts) -> WriteCounts:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.paragraphs_written += other.paragraphs_written
        return self
