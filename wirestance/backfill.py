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
from dataclasses import dataclass, field, replace
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
#: What a run may ask for: a mode, or `auto` (see `choose_mode`: the feeds unless the range is older than
#: what they list, then the raw archive if it has those days, else past-date discovery).
BackfillModeChoice = Literal["auto", "feeds", "discovery", "archive"]

MAX_CHUNK_DAYS = 366
#: A century of days: more is a typing slip.
MAX_RANGE_DAYS = 36_525
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


# A first day and a number of days rather than a first and a last day: the Prefect UI's run form is checked
# against the parameters' JSON schema, which cannot compare two fields but can refuse a number of days below
# 1, so a range that would end before it starts is refused in the form itself. Python callers (and the CLI's
# --since/--until) may still give `end_date`: it becomes the number of days, and one before the start is
# refused with a sentence saying so.
class DateRange(BaseModel):
    """The days to ingest: a first day and how many days from it, counted in a time zone."""

    model_config = ConfigDict(title="Date range", extra="forbid")

    start_date: date = Field(title="First day", description="First day to ingest, included.")
    days: int = Field(
        ge=1,
        le=MAX_RANGE_DAYS,
        title="Number of days",
        description="How many days to ingest from the first day on, the first day included: 1 ingests the "
        "first day alone, 7 a week. At least 1: a range cannot end before it starts.",
    )
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        title="Time zone",
        description="IANA time zone the days start and end in; empty: each source's own (sources.toml), "
        "which matches the lake's published_date partitions.",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_end_date(cls, data: Any) -> Any:
        """`end_date` (the last day, included) given instead of `days`."""
        if not isinstance(data, dict) or "end_date" not in data:
            return data
        data = dict(data)
        end, start = data.pop("end_date"), data.get("start_date")
        if "days" in data:
            raise ValueError("give the last day (end_date) or the number of days (days), not both")
        try:
            end_day = _as_date(end)
        except (TypeError, ValueError):
            raise ValueError(f"the end date {end!r} is not a date (YYYY-MM-DD)") from None
        try:
            start_day = _as_date(start)
        except (TypeError, ValueError):
            return data  # the start date's own error says what is wrong
        if end_day < start_day:
            raise ValueError(
                f"the end date {end_day.isoformat()} is before the start date {start_day.isoformat()}; "
                "both days are included, so pick an end on or after the start"
            )
        return data | {"days": (end_day - start_day).days + 1}

    @model_validator(mode="after")
    def _valid(self) -> Self:
        try:
            if self.timezone:
                ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {self.timezone!r}; use an IANA name such as UTC or Europe/Istanbul"
            ) from None
        return self

    @property
    def end_date(self) -> date:
        """The last day, included."""
        return self.start_date + timedelta(days=self.days - 1)

    @property
    def label(self) -> str:
        return f"{self.start_date.isoformat()}..{self.end_date.isoformat()}"


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


ChunkDays = Annotated[int, Field(ge=1, le=MAX_CHUNK_DAYS)]


@dataclass(frozen=True)
class Chunk:
    index: int  # 1-based
    count: int
    window: Window
    first_day: date
    last_day: date

    zone: str = "UTC"

    @property
    def label(self) -> str:
        first, last = self.first_day.isoformat(), self.last_day.isoformat()
        return first if first == last else f"{first}..{last}"

    @property
    def days_text(self) -> str:
        """The chunk's days for a sentence: `2019-11-26` or `2019-11-26 to 2019-11-30`."""
        first, last = self.first_day.isoformat(), self.last_day.isoformat()
        return first if first == last else f"{first} to {last}"

    @property
    def artifact_key(self) -> str:
        """Its table's artifact key, by its days in its zone (Prefect keys take lowercase letters, digits and
        dashes): `backfill-2019-11-26-to-2019-11-30`."""
        return "backfill-" + self.days_text.replace(" ", "-")


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

    zone_key = zone_name or dates.timezone or "UTC"
    zone = ZoneInfo(zone_key)
    firsts = list(starts())
    last = dates.end_date + timedelta(days=1)
    return [
        Chunk(
            i,
            len(firsts),
            Window(_midnight(first, zone), _midnight(min(first + timedelta(days=chunk_days), last), zone)),
            first,
            min(first + timedelta(days=chunk_days), last) - timedelta(days=1),
            zone_key,
        )
        for i, first in enumerate(firsts, start=1)
    ]


def plan_chunks(dates: DateRange, chunk_days: int, sources: Sequence[str]) -> list[tuple[Chunk, list[str]]]:
    """Every chunk of a backfill with the sources it covers: days are counted in each source's own zone (or
    the range's), so sources in different zones get chunks of their own; numbered 1..n over all of them.
    An unknown source raises a ValueError naming the known ones."""
    from wirestance.sources import zones_of

    plan = [
        (chunk, names)
        for zone, names in zones_of(list(sources), dates.timezone).items()
        for chunk in split_range(dates, chunk_days, zone)
    ]
    return [(replace(chunk, index=i, count=len(plan)), names) for i, (chunk, names) in enumerate(plan, start=1)]


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


# -- auto mode -------------------------------------------------------------------------------------


def choose_mode(range_end: datetime, feeds_horizon: datetime | None, archived: bool) -> tuple[BackfillMode, str]:
    """The mode of a backfill given none, and why (the end of a sentence for the log).

    `feeds` unless the range ends before the oldest article the feeds list today (`feeds_horizon`; None
    when they list nothing): then `archive` when the raw archive holds those days' article pages
    (`archived`), past-date `discovery` otherwise.
    """
    if feeds_horizon is not None and range_end > feeds_horizon:
        return "feeds", f"the feeds list articles back to {_minute(feeds_horizon)}"
    reach = (
        f"the range ends before the oldest article the feeds list ({_minute(feeds_horizon)})"
        if feeds_horizon is not None
        else "the feeds list no article"
    )
    if archived:
        return "archive", f"{reach} and the raw archive holds article pages fetched on those days"
    return "discovery", f"{reach} and the raw archive holds no article page fetched on those days"


def feeds_horizon(
    resources: Resources, sources: Sequence[str], categories: Sequence[str] | None, feed_base_url: str | None
) -> datetime | None:
    """The oldest publication time the sources' feeds (and news sitemaps) list now; None if they list none."""
    from wirestance.pipeline import discover

    everything = Window(datetime(1970, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=2))
    published = [
        item.published
        for name in sources
        for item in discover(resources, name, categories, everything, feed_base_url).items
        if item.published is not None
    ]
    return min(published, default=None)


def archive_has_days(
    resources: Resources, sources: Sequence[str], start: datetime, end: datetime, feed_base_url: str | None = None
) -> bool:
    """Whether the raw archive holds an article page of the sources (or of the mirror at `feed_base_url`)
    fetched in [start, end + one day): a page is fetched on its publication day or soon after, so then the
    archive has those days' articles. Feeds and robots.txt, fetched every day, do not count."""
    from wirestance.sources import get_source

    known = [get_source(name) for name in sources]
    domains = [domain for source in known for domain in source.allowed_domains]
    if feed_base_url:
        domains.append(urlsplit(feed_base_url).hostname or "")
    try:
        urls = resources.reader.index(start, end + timedelta(days=1), domains, columns=["url"]).column(0)
    except Exception:  # an archive that cannot be read has nothing to offer: discovery it is
        return False
    return any(source.article_id(url) for url in urls.to_pylist() if url for source in known)


def resolve_mode(
    resources: Resources,
    dates: DateRange,
    sources: Sequence[str],
    categories: Sequence[str] | None,
    feed_base_url: str | None,
) -> tuple[BackfillMode, str]:
    """`choose_mode` for a range: it starts at its first day's first moment and ends at its last day's end,
    in the earliest and the latest of the sources' zones."""
    from wirestance.sources import zones_of

    zones = [ZoneInfo(zone) for zone in zones_of(list(sources), dates.timezone)]
    start = min(_midnight(dates.start_date, zone) for zone in zones)
    end = max(_midnight(dates.end_date + timedelta(days=1), zone) for zone in zones)
    horizon = feeds_horizon(resources, sources, categories, feed_base_url)
    if horizon is not None and end > horizon:
        return choose_mode(end, horizon, False)
    return choose_mode(end, horizon, archive_has_days(resources, sources, start, end, feed_base_url))


def _minute(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


#: Ingest one chunk from the feeds: (resources, request, run id) -> one report per source.
IngestStep = Callable[[Resources, IngestRequest, str], list[SourceReport]]
#: Reprocess one chunk from the raw archive: (resources, window, sources, extra hosts, parse every page again)
#: -> summary rows.
ArchiveStep = Callable[[Resources, Window, Sequence[str], Sequence[str], bool], list[dict[str, Any]]]


def ingest_step(resources: Resources, request: IngestRequest, run_id: str) -> list[SourceReport]:
    return ingest_window(resources, request, run_id)


def reprocess_step(
    resources: Resources, window: Window, sources: Sequence[str], hosts: Sequence[str], reparse: bool
) -> list[dict[str, Any]]:
    return run_reprocess(resources.settings, window, sources, resources.model, hosts=hosts, reparse=reparse)


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
        # `reprocess` (store again even if unchanged) parses every archived page again, also those whose stored
        # article is current (an unchanged parse is still not written).
        rows = reprocess_archive(resources, window, request.sources, hosts, request.reprocess)
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


def with_totals_row(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The summary rows and a last row, `total`, adding up every count (and naming every source)."""
    if not rows:
        return rows
    total: dict[str, Any] = {"chunk": "total", "source": ", ".join(sorted({str(r.get("source", "")) for r in rows}))}
    for key in rows[0]:
        if key not in total:
            total[key] = sum(int(row.get(key) or 0) for row in rows)
    return [*rows, total]


def whole_percent(done: int, total: int) -> int:
    """Progress as a whole percentage, never 100 before the end."""
    return 100 * done // total if total else 100


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def totals(rows: list[dict[str, Any]]) -> str:
    """Counts over summary rows, as the end of a sentence for the log."""

    def total(key: str) -> int:
        return sum(int(row.get(key, 0)) for row in rows)

    return (
        f"{plural(total('discovered'), 'article')} in the window, {total('new')} new, {total('updated')} updated, "
        f"{total('unchanged')} unchanged, {plural(total('paragraphs'), 'paragraph')} written and "
        f"{plural(total('failed'), 'failure')}"
    )


#: The modes in a sentence.
MODE_WORDS: dict[str, str] = {
    "feeds": "the sources' feeds",
    "discovery": "past-date discovery (sitemaps and web archives)",
    "archive": "the raw archive (no network)",
}
