"""What a run did for one source, the same type whether it read feeds, discovered past dates or the archive."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wirestance.failures import Failure
from wirestance.lake.outcomes import WriteCounts


@dataclass
class SourceReport:
    """Counts of one source in one run (or one chunk of a backfill), and what failed."""

    source: str
    #: Articles found for the window: listed by the feeds, found by discovery, or held by the archive.
    discovered: int = 0
    #: Found, but published outside the window.
    out_of_window: int = 0
    #: Found, but already in the lake, so not fetched (discovery).
    skipped_stored: int = 0
    #: Pages fetched (or read from the archive) and handed to the parser.
    fetched: int = 0
    #: Of those, pages that came from a web archive's capture rather than the live site.
    from_archive: int = 0
    #: Archive records that are not article pages (feeds, robots.txt, index pages): reprocess.
    not_article: int = 0
    #: Archive records that could not be read: reprocess.
    corrupt_records: int = 0
    counts: WriteCounts = field(default_factory=WriteCounts)
    failures: list[Failure] = field(default_factory=list)

    def add(self, other: SourceReport) -> None:
        """Count another part (a batch) of the same source's run in this report."""
        self.discovered += other.discovered
        self.out_of_window += other.out_of_window
        self.skipped_stored += other.skipped_stored
        self.fetched += other.fetched
        self.from_archive += other.from_archive
        self.not_article += other.not_article
        self.corrupt_records += other.corrupt_records
        self.counts += other.counts
        self.failures.extend(other.failures)

    def as_row(self) -> dict[str, Any]:
        """One row of a run's summary table (a Prefect table artifact, the CLI's output)."""
        return {
            "source": self.source,
            "discovered": self.discovered,
            "out_of_window": self.out_of_window,
            "skipped_stored": self.skipped_stored,
            "fetched": self.fetched,
            "from_archive": self.from_archive,
            "new": self.counts.new,
            "updated": self.counts.updated,
            "unchanged": self.counts.unchanged,
            "paragraphs": self.counts.paragraphs_written,
            "failed": len(self.failures),
        }
