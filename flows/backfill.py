"""The `backfill` flow: ingest a range of past days, one chunk of days after another.

Each chunk is one `backfill-chunk` task that calls `flows.ingest.run_ingest` for its window, so a chunk
writes exactly what an `ingest` run over the same window would. The lake upsert is idempotent (an
article already stored with the same content counts as unchanged, and each partition is rewritten
under its lock), so a failed or cancelled backfill is finished by running it again over the same range,
and a backfill that overlaps a scheduled `ingest-latest` run duplicates nothing.

Progress shows in the UI while it runs (the `backfill-progress` artifact and one log line per chunk);
each chunk leaves run_ingest's per-source table artifact, and the run ends with a `backfill-summary`
table (one row per chunk and source).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, Self, cast
from urllib.parse import urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.states import Failed
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from pydantic import BaseModel, ConfigDict, Field, model_validator

from wirestance.discovery.backfill import backfill_window
from wirestance.discovery.config import DiscoveryConfig
from wirestance.flows.ingest import champion_model, run_ingest, runtime_for, stance_summary_artifact
from wirestance.flows.reprocess import run_reprocess
from wirestance.pipeline import Window
from wirestance.settings import Settings

#: Where a backfill finds its articles.
BackfillMode = Literal["feeds", "discovery", "archive"]
#: The form's choice: `auto` picks one of the modes from the range (see `choose_mode`).
BackfillModeChoice = Literal["auto", "feeds", "discovery", "archive"]
#: When a backfill runs far enough in the past that the feeds no longer list it: the archive if it has those days.
PAST_MODES: tuple[BackfillMode, BackfillMode] = ("archive", "discovery")

#: Environment setting that picks where the chunk tasks (fetch, parse, classify, store) run.
TASK_RUNNER_ENV = "WIRESTANCE_TASK_RUNNER"
#: With the Dask runner: the address of an existing Dask scheduler (tcp://host:8786); unset: a local cluster.
DASK_ADDRESS_ENV = "WIRESTANCE_DASK_ADDRESS"
#: With the Dask runner and no address: worker processes of the local cluster.
DASK_WORKERS_ENV = "WIRESTANCE_DASK_WORKERS"

MAX_CHUNK_DAYS = 366
#: Called with each stored chunk in the process that runs the flow: `wirestance backfill` draws its progress
#: bar with it. Empty unless a caller adds one.
CHUNK_LISTENERS: list[Callable[[Chunk], None]] = []
#: Days are counted in the agencies' time zone by default: the date a Turkish agency prints on a story is
#: its lake partition (published_date), so a backfill of 2019-11-26 fills partition 2019-11-26.
DEFAULT_TIMEZONE = "Europe/Istanbul"
DEFAULT_SOURCES: list[str] = ["anadolu"]
NO_CATEGORIES: list[str] = []


class DateRange(BaseModel):
    """The days to ingest, both ends included, counted in `timezone`."""

    model_config = ConfigDict(title="Date range", extra="forbid")

    start_date: date = Field(title="Start date", description="First day to ingest, included.")
    end_date: date = Field(title="End date", description="Last day to ingest, included; not before the start.")
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        title="Time zone",
        description="IANA time zone the days start and end in; the default, the agencies' own, matches "
        "the lake's published_date partitions.",
    )

    @model_validator(mode="after")
    def _valid(self) -> Self:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {self.timezone!r}; use an IANA name such as UTC or Europe/Istanbul"
            ) from None
        return self

    @property
    def problem(self) -> str | None:
        """Why the range cannot be ingested (its end is before its start), or None.

        Not a validation error: a run started from the UI with such a range then ends at once with this
        sentence in its log and state message, instead of a failed parameter validation the run page hides.
        """
        if self.end_date < self.start_date:
            return (
                f"the end date {self.end_date.isoformat()} is before the start date {self.start_date.isoformat()}; "
                "both days are included, so pick an end on or after the start"
            )
        return None

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

    @property
    def days_text(self) -> str:
        first, last = self.first_day.isoformat(), self.last_day.isoformat()
        return first if first == last else f"{first} to {last}"

    @property
    def artifact_key(self) -> str:
        """Prefect artifact keys take lowercase letters, digits and dashes: `backfill-2019-11-25-to-2019-11-27`."""
        return "backfill-" + self.days_text.replace(" ", "-")


def split_range(dates: DateRange, chunk_days: int) -> list[Chunk]:
    """Consecutive windows of `chunk_days` days (the last one may be shorter) covering `dates`, in order."""
    if chunk_days < 1:
        raise ValueError(f"chunk_days must be at least 1, not {chunk_days}")
    if dates.problem:
        raise ValueError(dates.problem)

    def starts() -> Iterator[date]:
        day = dates.start_date
        while day <= dates.end_date:
            yield day
            day += timedelta(days=chunk_days)

    zone = ZoneInfo(dates.timezone)
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


def task_runner_from_env() -> TaskRunner[Any]:
    """`WIRESTANCE_TASK_RUNNER`: `thread` (default, in the flow-run process) or `dask` (prefect-dask).

    Read when this module is imported, i.e. in the process that runs the flow (the `wirestance serve`
    child, a worker's child, or `wirestance backfill`). Chunks run one after another either way.
    """
    kind = os.environ.get(TASK_RUNNER_ENV, "thread").strip().lower() or "thread"
    if kind == "thread":
        return ThreadPoolTaskRunner(max_workers=1)  # chunks run in order: one at a time
    if kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as exc:
            raise RuntimeError(f"{TASK_RUNNER_ENV}=dask needs prefect-dask: pip install prefect-dask") from exc
        address = os.environ.get(DASK_ADDRESS_ENV) or None
        if address:
            return DaskTaskRunner(address=address)
        workers = int(os.environ.get(DASK_WORKERS_ENV) or "1")
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": workers,
                "threads_per_worker": 1,
                "processes": True,
                "host": "127.0.0.1",
                "dashboard_address": "127.0.0.1:0",  # loopback, any free port
            }
        )
    raise ValueError(f"{TASK_RUNNER_ENV}={kind!r}: expected 'thread' or 'dask'")


@task(name="backfill-chunk", task_run_name="chunk {label}", cache_policy=NO_CACHE)
def chunk_task(
    settings: Settings,
    label: str,
    window: Window,
    sources: list[str],
    categories: list[str] | None,
    feed_base_url: str | None,
    reprocess: bool,
    mode: BackfillMode = "feeds",
) -> list[dict[str, Any]]:
    """One chunk of its window, by `mode`: the sources' feeds (an ingest), past-date discovery (sitemaps,
    Wayback CDX, Common Crawl index) or the raw WARC archive (reprocess: no network)."""
    if mode == "archive":
        hosts = [urlsplit(feed_base_url).hostname or ""] if feed_base_url else []
        rows = run_reprocess(settings, window, sources, champion_model(settings), hosts=hosts)
        return [{**r, "discovered": r.get("articles", 0), "fetched": r.get("responses", 0)} for r in rows]
    if mode == "discovery":
        runtime, model, config = runtime_for(settings), champion_model(settings), DiscoveryConfig.from_env()
        run_id = str(flow_run.id or uuid.uuid4())
        rows = []
        for name in sources:
            report = backfill_window(runtime, name, window, model, config, live_base_url=feed_base_url)
            runtime.lake.append_failures(report.failures, run_id)
            rows.append({**report.as_row(), "discovered": report.found})
        if runtime.recorder is not None:
            runtime.recorder.flush()
        return rows
    return run_ingest(settings, window, sources, categories, feed_base_url, None, reprocess, False, artifact_key=None)


def mode_for(
    settings: Settings, dates: DateRange, sources: list[str], categories: list[str] | None, feed_base_url: str | None
) -> tuple[BackfillMode, str]:
    """The mode of a backfill given none, and why (a sentence for the log). Called in the flow's own process,
    not as a task: its fetchers must never travel to a Dask worker."""
    horizon = feeds_horizon(runtime_for(settings), sources, categories, feed_base_url)
    zone = ZoneInfo(dates.timezone)
    range_end = _midnight(dates.end_date + timedelta(days=1), zone)
    archived = archive_has_days(settings, sources, _midnight(dates.start_date, zone), range_end, feed_base_url)
    return choose_mode(range_end, horizon, archived)


@flow(name="backfill", log_prints=True, task_runner=task_runner_from_env())
def backfill(
    dates: DateRange,
    sources: list[str] = DEFAULT_SOURCES,
    categories: list[str] = NO_CATEGORIES,
    reprocess: bool = False,
    chunk_days: ChunkDays = 1,
    feed_base_url: str | None = None,
    mode: BackfillModeChoice = "auto",
) -> list[dict[str, Any]]:
    """Ingest every article published in the date range (both days included, in the range's time zone).

    Args:
        dates: First and last day (both included) and the time zone they are counted in.
        sources: Source names, e.g. anadolu.
        categories: Feed categories; empty means each source's default categories.
        reprocess: Replace stored articles even when unchanged (e.g. after a parser or model change).
        chunk_days: Days per chunk; chunks run one after another, each stored before the next starts.
        feed_base_url: Replace the sites' origin with this one (a mirror or the offline sample site).
        mode: Where articles come from: `feeds` (the sources' RSS feeds), `discovery` (past dates: sitemaps,
            Wayback CDX and Common Crawl index, set by WIRESTANCE_DISCOVERY_*), or `archive` (parse the raw
            WARC archive again with today's parsers and model, no network). `auto`: `feeds`, unless the
            range ends before the oldest article the feeds list today; then `archive` when the raw archive
            holds pages fetched on those days, `discovery` otherwise.
    """
    from wirestance.sources import get_source

    logger = get_run_logger()
    if dates.problem:
        logger.error("This backfill is refused: %s.", dates.problem)
        return cast("list[dict[str, Any]]", Failed(message=f"Refused: {dates.problem}"))
    for name in sources:
        get_source(name)  # an unknown source fails the run here, before any chunk, with the known names
    settings = Settings.from_env()
    chunks = split_range(dates, chunk_days)
    span = dates.label
    if mode == "auto":
        mode, why = mode_for(settings, dates, sources, categories or None, feed_base_url)
        logger.info("Mode %s was chosen: %s.", mode, why)
    progress = cast(
        UUID,  # sync in a sync flow (the function dispatches on the context)
        create_progress_artifact(0, key="backfill-progress", description=f"Backfill {span}: 0 of {len(chunks)} done"),
    )
    logger.info(
        "Backfilling %s (%s, both days included, days in %s) in %s of up to %s, from %s, for %s%s.",
        span,
        _plural(dates.days, "day"),
        dates.timezone,
        _plural(len(chunks), "chunk"),
        _plural(chunk_days, "day"),
        _MODE_WORDS[mode],
        ", ".join(sources),
        ", replacing stored articles" if reprocess else "",
    )
    summary: list[dict[str, Any]] = []
    for chunk in chunks:
        future = chunk_task.submit(
            settings, chunk.label, chunk.window, sources, categories or None, feed_base_url, reprocess, mode
        )
        try:
            rows = future.result()
        except Exception:
            logger.error(
                "Chunk %d of %d (%s) failed; the chunks before it are stored. Run the backfill again over %s "
                "to finish: articles already stored count as unchanged.",
                chunk.index,
                chunk.count,
                chunk.days_text,
                span,
            )
            update_progress_artifact(
                progress,
                whole_percent(chunk.index - 1, chunk.count),
                description=f"Backfill {span}: failed at chunk {chunk.index} of {chunk.count} ({chunk.days_text})",
            )
            raise
        chunk_rows = [{"chunk": chunk.label, **_chunk_row(row)} for row in rows]
        summary.extend(chunk_rows)
        create_table_artifact(
            key=chunk.artifact_key,
            table=chunk_rows,
            description=f"Backfill chunk {chunk.index} of {chunk.count}: {chunk.days_text} "
            f"(days in {dates.timezone}), per source",
        )
        percent = whole_percent(chunk.index, chunk.count)
        update_progress_artifact(
            progress, percent, description=f"Backfill {span}: {chunk.index} of {chunk.count} chunks done ({percent}%)"
        )
        for listener in CHUNK_LISTENERS:
            listener(chunk)
        logger.info(
            "Chunk %d of %d (%s) is stored, %d%% done: %s.",
            chunk.index,
            chunk.count,
            chunk.days_text,
            percent,
            _totals(rows),
        )
    create_table_artifact(
        key="backfill-summary",
        table=with_totals_row(summary),
        description=f"Backfill {span} ({dates.timezone}, both days included): articles, paragraphs and "
        "failures per chunk and source; the last row is the total",
    )
    logger.info("Backfill %s is done: %s.", span, _totals(summary))
    stance_summary_artifact(
        settings, dates.start_date, dates.end_date, sources, title=f"Stance of the coverage, backfill {span}"
    )
    return summary


_MODE_WORDS: dict[str, str] = {
    "feeds": "the sources' feeds",
    "discovery": "past-date discovery (sitemaps and web archives)",
    "archive": "the raw archive (no network)",
}


def choose_mode(range_end: datetime, feeds_horizon: datetime | None, archived: bool) -> tuple[BackfillMode, str]:
    """`feeds` unless the range ends before the oldest article the feeds list (`feeds_horizon`, None when
    the feeds listed nothing); then `archive` when the raw archive has those days, else `discovery`."""
    if feeds_horizon is not None and range_end > feeds_horizon:
        return "feeds", f"the feeds list articles back to {feeds_horizon.isoformat(timespec='minutes')}"
    reach = (
        f"the range ends before the oldest article the feeds list ({feeds_horizon.isoformat(timespec='minutes')})"
        if feeds_horizon is not None
        else "the feeds list no article"
    )
    if archived:
        return "archive", f"{reach} and the raw archive holds pages fetched on those days"
    return "discovery", f"{reach} and the raw archive holds no page fetched on those days"


def feeds_horizon(
    runtime: Any, sources: list[str], categories: list[str] | None, feed_base_url: str | None
) -> datetime | None:
    """The oldest publication time any of the sources' feeds lists now (None if they list nothing)."""
    from wirestance.pipeline import discover

    everything = Window(datetime(1970, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=2))
    oldest: datetime | None = None
    for name in sources:
        found = discover(runtime, name, categories, everything, feed_base_url)
        for item in found.items:
            if item.published is not None and (oldest is None or item.published < oldest):
                oldest = item.published
    return oldest


def archive_has_days(
    settings: Settings, sources: list[str], start: datetime, end: datetime, feed_base_url: str | None = None
) -> bool:
    """Whether the raw archive holds a page of the sources (or of the mirror at `feed_base_url`) fetched in
    [start, end + one day): a page is fetched on its publication day or soon after, so then the archive has
    those days' articles."""
    from wirestance.archive.reader import ArchiveReader
    from wirestance.lake import Lake
    from wirestance.sources import get_source

    known = [get_source(name) for name in sources]
    domains = [domain for source in known for domain in source.allowed_domains]
    if feed_base_url:
        domains.append(urlsplit(feed_base_url).hostname or "")
    try:
        with ArchiveReader(settings.raw_url, Lake(settings.lake_url)) as reader:
            urls = reader.index(start, end + timedelta(days=1), domains, columns=["canonical_url"]).column(0)
    except Exception:  # an archive that cannot be read has nothing to offer: discovery it is
        return False
    # Article pages only: the feeds and robots.txt are fetched every day and say nothing about past days.
    return any(source.article_id(url) for url in urls.to_pylist() if url for source in known)


def whole_percent(done: int, total: int) -> int:
    return int(100 * done // total) if total else 100


def with_totals_row(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows and a last row adding up every count, labelled `total`."""
    if not rows:
        return rows
    total: dict[str, Any] = {"chunk": "total", "source": ", ".join(sorted({str(r.get("source", "")) for r in rows}))}
    for key in rows[0]:
        if key not in total:
            total[key] = sum(int(row.get(key) or 0) for row in rows)
    return [*rows, total]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _chunk_row(row: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "source",
        "discovered",
        "skipped_stored",
        "fetched",
        "from_archive",
        "new",
        "updated",
        "unchanged",
        "paragraphs",
        "failed",
    )
    return {key: row.get(key, 0) for key in keys}


def _totals(rows: list[dict[str, Any]]) -> str:
    def total(key: str) -> int:
        return sum(int(row.get(key, 0)) for row in rows)

    return (
        f"{total('discovered')} articles in the window, {total('new')} new, {total('updated')} updated, "
        f"{total('unchanged')} unchanged, {total('paragraphs')} paragraphs written and "
        f"{_plural(total('failed'), 'failure')}"
    )
