"""Backfill a range of past days, one chunk of days after another: the date range, its chunks, and what one
chunk does in each mode.

A chunk ingests its window from the sources' feeds (exactly what an ingest over the same window writes),
from past-date discovery (sitemaps, Wayback CDX, Common Crawl index), or from the raw WARC archive (a
reprocess: no network). The lake upsert is idempotent (an article already stored with the same content
counts as unchanged, and each partition is rewritten under its lock), so a failed or cancelled backfill is
finished by running it again over the same range, and a backfill that overlaps a scheduled ingest
duplicates nothing. The `backfill` flow runs each chunk as one Prefect task; tests call `run_chunk`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, model_validator

from wirestance.discovery.backfill import backfill_window
from wirestance.discovery.config import DiscoveryConfig
from wirestance.ingest import IngestRequest, ingest_window
from wirestance.pipeline import Window
from wirestance.reports import SourceReport
from wirestance.reprocess import run_reprocess
from wirestance.resources import Resources
from wirestance.sources import enabled_source_names

#: Where a backfill finds its articles.
BackfillMode = Literal["feeds", "discovery", "archive"]

MAX_CHUNK_DAYS = 366
#: Days are counted in each source's own time zone by default (sources.toml): the date an agency prints on a
#: story is its lake partition (published_date), so a backfill of 2019-11-26 fills partition 2019-11-26.
#: Empty rather than None: a plain text box in the UI's run form (no str/None switch).
DEFAULT_TIMEZONE = ""
#: None: every enabled source of the registry.
DEFAULT_SOURCES: list[str] | None = None
NO_CATEGORIES: list[str] = []
#: The columns of a backfill's summary table (one row per chunk and source), after the chunk's label.
SUMMARY_COLUMNS = (
    "source", "discovered", "skipped_stored", "fetched", "from_archive", "new", "updated", "unchanged",
    "paragraphs", "failed",
)  # fmt: skip


class DateRange(BaseModel):
    """The days to ingest, both ends included, counted in `timezone` (default: each source's own)."""

    model_config = ConfigDict(title="Date range", extra="forbid")

    start_date: date = Field(title="Start date", description="First day to ingest, included.")
    end_date: date = Field(title="End date", description="Last day to ingest, included; not before the start.")
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        title="Time zone",
        description="IANA time zone the days start and end in; empty: each source's own (sources.toml), "
        "which matches the lake's published_date partitions.",
    )

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if self.end_date < self.start_date:
            raise ValueError(
                f"the end date {self.end_date.isoformat()} is before the start date {self.start_date.isoformat()}; "
                "both days are included, so pick an end on or after the start"
            )
        try:
            if self.timezone:
                ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {self.timezone!r}; use an IANA name such as UTC or Europe/Istanbul"
            ) from None
        return self

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    @property
    def label(self) -> str:
        return f"{self.start_date.isoformat()}..{self.end_date.isoformat()}"


ChunkDays = Annotated[int, Field(ge=1, le=MAX_CHUNK_DAYS)]


@dataclass(frozen=True)
class Chunk:
    index: int  # 1-based
    count: int
    window: Window
    first_day: date
    last_day: date

    @property
    def label(self) -> str:
        first, last = self.first_day.isoformat(), self.last_day.isoformat()
        return first if first == last else f"{first}..{last}"


def split_range(dates: DateRange, chunk_days: int, zone_name: str | None = None) -> list[Chunk]:
    """Consecutive windows of `chunk_days` days (the last one may be shorter) covering `dates`, in order,
    with days counted in `zone_name` (default: the range's own zone, else UTC)."""
    if chunk_days < 1:
        raise ValueError(f"chunk_days must be at least 1, not {chunk_days}")

    def starts() -> Iterator[date]:
        day = dates.start_date
        while day <= dates.end_date:
            yield day
            day += timedelta(days=chunk_days)

    zone = ZoneInfo(zone_name or dates.timezone or "UTC")
    firsts = list(starts())
    last = dates.end_date + timedelta(days=1)
    return [
        Chunk(
            i,
            len(firsts),
            Window(_midnight(first, zone), _midnight(min(first + timedelta(days=chunk_days), last), zone)),
            first,
            min(first + timedelta(days=chunk_days), last) - timedelta(days=1),
        )
        for i, first in enumerate(firsts, start=1)
    ]


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """The day's first moment in `zone`, in UTC."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class ChunkRequest:
    """What every chunk of a backfill does (the flow's parameters, less the dates)."""

    #: Empty: every enabled source of the registry.
    sources: tuple[str, ...] = field(default_factory=lambda: tuple(enabled_source_names()))
    categories: tuple[str, ...] | None = None
    reprocess: bool = False
    feed_base_url: str | None = None
    mode: BackfillMode = "feeds"


#: Ingest one chunk from the feeds: (resources, request, run id) -> one report per source.
IngestStep = Callable[[Resources, IngestRequest, str], list[SourceReport]]
#: Reprocess one chunk from the raw archive: (resources, window, sources, extra hosts) -> summary rows.
ArchiveStep = Callable[[Resources, Window, Sequence[str], Sequence[str]], list[dict[str, Any]]]


def ingest_step(resources: Resources, request: IngestRequest, run_id: str) -> list[SourceReport]:
    return ingest_window(resources, request, run_id)


def reprocess_step(
    resources: Resources, window: Window, sources: Sequence[str], hosts: Sequence[str]
) -> list[dict[str, Any]]:
    return run_reprocess(resources.settings, window, sources, resources.model, hosts=hosts)


def run_chunk(
    resources: Resources,
    window: Window,
    request: ChunkRequest,
    run_id: str,
    *,
    ingest: IngestStep = ingest_step,
    reprocess_archive: ArchiveStep = reprocess_step,
    discovery: DiscoveryConfig | None = None,
) -> list[dict[str, Any]]:
    """One chunk of a backfill, by its mode; one summary row per source.

    `ingest` runs a feeds chunk (the flow passes its own, with Prefect tasks); `reprocess_archive` runs an
    archive chunk (wirestance.reprocess by default); `discovery`
    configures a discovery chunk (default: from WIRESTANCE_DISCOVERY_*).
    """
    if request.mode == "archive":
        hosts = [urlsplit(request.feed_base_url).hostname or ""] if request.feed_base_url else []
        rows = reprocess_archive(resources, window, request.sources, hosts)
        # A reprocess counts what the archive holds as articles and responses.
        return [{**row, "discovered": row.get("articles", 0), "fetched": row.get("responses", 0)} for row in rows]
    if request.mode == "discovery":
        return [report.as_row() for report in discover_chunk(resources, window, request, run_id, discovery)]
    feeds = IngestRequest(
        window, request.sources, request.categories, request.feed_base_url, reprocess=request.reprocess
    )
    return [report.as_row() for report in ingest(resources, feeds, run_id)]


def discover_chunk(
    resources: Resources,
    window: Window,
    request: ChunkRequest,
    run_id: str,
    config: DiscoveryConfig | None = None,
) -> list[SourceReport]:
    """Past-date discovery of one chunk for every source (set by WIRESTANCE_DISCOVERY_* by default)."""
    config = config or DiscoveryConfig.from_env()
    reports = []
    for name in request.sources:
        report = backfill_window(resources, name, window, resources.model, config, live_base_url=request.feed_base_url)
        resources.lake.append_failures(report.failures, run_id)
        reports.append(report)
    resources.flush()
    return reports


def summary_row(chunk: Chunk, row: dict[str, Any]) -> dict[str, Any]:
    """A chunk's row of the backfill summary: the same columns whatever the mode."""
    return {"chunk": chunk.label, **{key: row.get(key, 0) for key in SUMMARY_COLUMNS}}


def totals(rows: list[dict[str, Any]]) -> str:
    """Counts over summary rows, as one line for the log."""

    def total(key: str) -> int:
        return sum(int(row.get(key, 0)) for row in rows)

    return (
        f"{total('discovered')} in window, {total('new')} new, {total('updated')} updated, "
        f"{total('unchanged')} unchanged, {total('paragraphs')} paragraphs written, {total('failed')} failures"
    )
