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
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, Self, cast
from urllib.parse import urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from pydantic import BaseModel, ConfigDict, Field, model_validator

from wirestance.discovery.backfill import backfill_window
from wirestance.discovery.config import DiscoveryConfig
from wirestance.flows.ingest import champion_model, run_ingest, runtime_for
from wirestance.flows.reprocess import run_reprocess
from wirestance.pipeline import Window
from wirestance.settings import Settings

#: Where a backfill finds its articles.
BackfillMode = Literal["feeds", "discovery", "archive"]

#: Environment setting that picks where the chunk tasks (fetch, parse, classify, store) run.
TASK_RUNNER_ENV = "WIRESTANCE_TASK_RUNNER"
#: With the Dask runner: the address of an existing Dask scheduler (tcp://host:8786); unset: a local cluster.
DASK_ADDRESS_ENV = "WIRESTANCE_DASK_ADDRESS"
#: With the Dask runner and no address: worker processes of the local cluster.
DASK_WORKERS_ENV = "WIRESTANCE_DASK_WORKERS"

MAX_CHUNK_DAYS = 366
#: Days are counted in each source's own time zone by default (sources.toml): the date an agency prints on a
#: story is its lake partition (published_date), so a backfill of 2019-11-26 fills partition 2019-11-26.
#: Empty rather than None: a plain text box in the UI's run form (no str/None switch).
DEFAULT_TIMEZONE = ""
#: None: every enabled source of the registry.
DEFAULT_SOURCES: list[str] | None = None
NO_CATEGORIES: list[str] = []


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
    return run_ingest(settings, window, sources, categories, feed_base_url, None, reprocess, False)


@flow(name="backfill", log_prints=True, task_runner=task_runner_from_env())
def backfill(
    dates: DateRange,
    sources: list[str] | None = DEFAULT_SOURCES,
    categories: list[str] = NO_CATEGORIES,
    reprocess: bool = False,
    chunk_days: ChunkDays = 1,
    feed_base_url: str | None = None,
    mode: BackfillMode = "feeds",
) -> list[dict[str, Any]]:
    """Ingest every article the sources' feeds list with a publication day in the date range.

    Args:
        dates: First and last day (both included) and the time zone they are counted in.
        sources: Source names, e.g. anadolu; empty: every enabled source.
        categories: Feed categories; empty means each source's default categories.
        reprocess: Replace stored articles even when unchanged (e.g. after a parser or model change).
        chunk_days: Days per chunk; chunks run one after another, each stored before the next starts.
        feed_base_url: Replace the sites' origin with this one (a mirror or the offline sample site).
        mode: Where articles come from: `feeds` (the sources' RSS feeds), `discovery` (past dates: sitemaps,
            Wayback CDX and Common Crawl index, set by WIRESTANCE_DISCOVERY_*), or `archive` (parse the raw
            WARC archive again with today's parsers and model, no network).
    """
    from wirestance.sources import enabled_source_names, zones_of

    logger = get_run_logger()
    sources = sources or enabled_source_names()
    # Days in each source's own zone (or the range's); an unknown source fails the run here, with the known names.
    plan = [
        (chunk, names)
        for zone, names in zones_of(sources, dates.timezone).items()
        for chunk in split_range(dates, chunk_days, zone)
    ]
    chunks = [chunk for chunk, _ in plan]
    settings = Settings.from_env()
    span = dates.label
    progress = cast(
        UUID,  # sync in a sync flow (the function dispatches on the context)
        create_progress_artifact(0.0, key="backfill-progress", description=f"Backfill {span}: 0 of {len(chunks)} done"),
    )
    logger.info(
        "backfill %s (%d days, %s) in %d chunks of up to %d days; sources %s; reprocess=%s",
        span, dates.days, dates.timezone or "each source's zone", len(chunks), chunk_days, ", ".join(sources),
        reprocess,
    )
    summary: list[dict[str, Any]] = []
    for done, (chunk, names) in enumerate(plan, start=1):
        chunk = replace(chunk, index=done, count=len(plan))
        future = chunk_task.submit(
            settings, chunk.label, chunk.window, names, categories or None, feed_base_url, reprocess, mode
        )
        try:
            rows = future.result()
        except Exception:
            logger.error(
                "chunk %d/%d (%s) failed; chunks before it are stored. Run the backfill again over %s to "
                "finish: stored articles count as unchanged.",
                chunk.index, chunk.count, chunk.label, span,
            )
            update_progress_artifact(
                progress, 100.0 * (chunk.index - 1) / chunk.count,
                description=f"Backfill {span}: failed at chunk {chunk.index} of {chunk.count} ({chunk.label})",
            )
            raise
        for row in rows:
            summary.append({"chunk": chunk.label, **_chunk_row(row)})
        update_progress_artifact(
            progress, 100.0 * chunk.index / chunk.count,
            description=f"Backfill {span}: {chunk.index} of {chunk.count} chunks done",
        )
        logger.info("chunk %d/%d %s done: %s", chunk.index, chunk.count, chunk.label, _totals(rows))
    create_table_artifact(
        key="backfill-summary",
        table=summary,
        description=f"Backfill {span}: articles, paragraphs and failures per chunk and source",
    )
    logger.info("backfill %s done: %s", span, _totals(summary))
    return summary


def _chunk_row(row: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "source", "discovered", "skipped_stored", "fetched", "from_archive", "new", "updated", "unchanged",
        "paragraphs", "failed",
    )
    return {key: row.get(key, 0) for key in keys}


def _totals(rows: list[dict[str, Any]]) -> str:
    def total(key: str) -> int:
        return sum(int(row.get(key, 0)) for row in rows)

    return (
        f"{total('discovered')} in window, {total('new')} new, {total('updated')} updated, "
        f"{total('unchanged')} unchanged, {total('paragraphs')} paragraphs written, {total('failed')} failures"
    )
