"""The `backfill` flow: ingest a range of past days, one chunk of days after another.

Each chunk is one `backfill-chunk` Prefect task running `wirestance.backfill.run_chunk` for its window (the
date range, its chunks, what a chunk does in each mode and how `auto` picks a mode live there). Progress
shows in the UI while it runs (the `backfill-progress` artifact in whole percents and one log sentence per
chunk); each chunk leaves a table named by its days in its sources' time zone (`backfill-2019-11-26-to-
2019-11-30`), and the run ends with a `backfill-summary` table (one row per chunk and source, and a totals
row) and the `stance-summary` markdown.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, cast
from uuid import UUID

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from wirestance.backfill import (
    DEFAULT_SOURCES,
    DEFAULT_TIMEZONE,
    MAX_CHUNK_DAYS,
    MODE_WORDS,
    NO_CATEGORIES,
    BackfillMode,
    BackfillModeChoice,
    Chunk,
    ChunkDays,
    ChunkRequest,
    DateRange,
    plan_chunks,
    plural,
    resolve_mode,
    run_chunk,
    split_range,
    summary_row,
    totals,
    whole_percent,
    with_totals_row,
)
from wirestance.flows.ingest import run_ingest
from wirestance.flows.resources import open_resources
from wirestance.ingest import as_tuple
from wirestance.pipeline import Window
from wirestance.resources import Resources
from wirestance.settings import Settings

__all__ = [
    "DEFAULT_SOURCES",
    "DEFAULT_TIMEZONE",
    "MAX_CHUNK_DAYS",
    "DateRange",
    "backfill",
    "chunk_task",
    "split_range",
    "task_runner_for",
    "task_runner_from_env",
]


def task_runner_for(settings: Settings) -> TaskRunner[Any]:
    """`task_runner` setting: `thread` (default, in the flow-run process) or `dask` (prefect-dask).

    The flow's runner is chosen when this module is imported, i.e. in the process that runs the flow (the
    `wirestance serve` child, a worker's child, or `wirestance backfill`). Chunks run one after another
    either way.
    """
    kind = settings.task_runner.strip().lower() or "thread"
    if kind == "thread":
        return ThreadPoolTaskRunner(max_workers=1)  # chunks run in order: one at a time
    if kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as exc:
            raise RuntimeError("WIRESTANCE_TASK_RUNNER=dask needs prefect-dask: pip install prefect-dask") from exc
        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": settings.dask_workers,
                "threads_per_worker": 1,
                "processes": True,
                "host": "127.0.0.1",
                "dashboard_address": "127.0.0.1:0",  # loopback, any free port
            }
        )
    raise ValueError(f"WIRESTANCE_TASK_RUNNER={kind!r}: expected 'thread' or 'dask'")


def task_runner_from_env() -> TaskRunner[Any]:
    return task_runner_for(Settings.from_env())


@contextmanager
def _chunk_resources(shared: Resources | Settings) -> Iterator[Resources]:
    """The flow's open resources in its own process (thread runner); in a Dask worker, the chunk's own."""
    if isinstance(shared, Resources):
        yield shared
    else:
        with open_resources(shared) as resources:
            yield resources


@task(name="backfill-chunk", task_run_name="chunk {label}", cache_policy=NO_CACHE)
def chunk_task(shared: Resources | Settings, label: str, window: Window, request: ChunkRequest) -> list[dict[str, Any]]:
    """One chunk of its window, by the request's mode: the sources' feeds (an ingest), past-date discovery
    (sitemaps, Wayback CDX, Common Crawl index) or the raw WARC archive (reprocess: no network)."""
    run_id = str(flow_run.id or uuid.uuid4())
    with _chunk_resources(shared) as resources:
        return run_chunk(
            resources,
            window,
            request,
            run_id,
            # The backfill leaves one table per chunk (named by its days), not the ingest's own.
            ingest=lambda res, feeds, _run_id: run_ingest(res, feeds, artifact_key=None),
        )


#: Called with each stored chunk (None at the end) in the process that runs the flow: `wirestance backfill`
#: draws its progress bar with it. Empty unless a caller adds one.
CHUNK_LISTENERS: list[Callable[[Chunk | None], None]] = []


@task(name="choose-backfill-mode", cache_policy=NO_CACHE)
def choose_mode_task(
    resources: Resources, dates: DateRange, sources: list[str], categories: list[str], feed_base_url: str | None
) -> tuple[BackfillMode, str]:
    """The mode of a backfill given `auto`, and why (see wirestance.backfill.choose_mode)."""
    return resolve_mode(resources, dates, sources, categories or None, feed_base_url)


@flow(name="backfill", log_prints=True, task_runner=task_runner_from_env())
def backfill(
    dates: DateRange,
    sources: list[str] | None = DEFAULT_SOURCES,
    categories: list[str] = NO_CATEGORIES,
    reprocess: bool = False,
    chunk_days: ChunkDays = 1,
    feed_base_url: str | None = None,
    mode: BackfillModeChoice = "auto",
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Ingest every article published in the date range (both days included, in each source's time zone).

    Args:
        dates: First day, number of days (at least 1) and the time zone they are counted in.
        sources: Source names, e.g. anadolu; empty: every enabled source.
        categories: Feed categories; empty means each source's default categories.
        reprocess: Replace stored articles even when unchanged (e.g. after a parser or model change).
        chunk_days: Days per chunk; chunks run one after another, each stored before the next starts.
        feed_base_url: Replace the sites' origin with this one (a mirror or the offline sample site).
        mode: Where articles come from: `feeds` (the sources' RSS feeds), `discovery` (past dates: sitemaps,
            Wayback CDX and Common Crawl index, set by WIRESTANCE_DISCOVERY_*), `archive` (parse the raw
            WARC archive again with today's parsers and model, no network), or `auto` (default): `feeds`,
            unless the range ends before the oldest article the feeds list today; then `archive` when the
            raw archive holds article pages fetched on those days, `discovery` otherwise.
    """
    from wirestance.sources import enabled_source_names

    logger = get_run_logger()
    sources = sources or enabled_source_names()
    # Days in each source's own zone (or the range's); an unknown source fails the run here, with the known names.
    plan = plan_chunks(dates, chunk_days, sources)
    chunks = [chunk for chunk, _ in plan]
    span = dates.label
    zones = ", ".join(sorted({chunk.zone for chunk in chunks}))
    progress = cast(
        UUID,  # sync in a sync flow (the function dispatches on the context)
        create_progress_artifact(0, key="backfill-progress", description=f"Backfill {span}: 0 of {len(chunks)} done"),
    )
    summary: list[dict[str, Any]] = []
    with open_resources(settings) as resources:
        if mode == "auto":
            mode, why = choose_mode_task(resources, dates, sources, categories, feed_base_url)
            logger.info("The backfill reads %s: %s.", MODE_WORDS[mode], why)
        logger.info(
            "Backfilling %s (%s, both days included, days in %s) in %s of up to %s, from %s, for %s%s.",
            span,
            plural(dates.days, "day"),
            zones,
            plural(len(chunks), "chunk"),
            plural(chunk_days, "day"),
            MODE_WORDS[mode],
            ", ".join(sources),
            ", replacing stored articles" if reprocess else "",
        )
        request = ChunkRequest(tuple(sources), as_tuple(categories), reprocess, feed_base_url, mode)
        # A task runner in this process shares the run's resources (the model is loaded once); a Dask
        # worker opens its own from the settings.
        runner = FlowRunContext.get().task_runner  # type: ignore[union-attr]
        shared = resources if isinstance(runner, ThreadPoolTaskRunner) else resources.settings
        for chunk, names in plan:
            rows = [
                summary_row(chunk, row)
                for row in _run_chunk(shared, chunk, replace(request, sources=tuple(names)), span, progress)
            ]
            summary.extend(rows)
            create_table_artifact(
                key=chunk.artifact_key,
                table=rows,
                description=f"Backfill chunk {chunk.index} of {chunk.count}: {chunk.days_text} "
                f"(days in {chunk.zone}), one row per source",
            )
            percent = whole_percent(chunk.index, chunk.count)
            update_progress_artifact(
                progress,
                percent,
                description=f"Backfill {span}: {chunk.index} of {chunk.count} chunks done ({percent}%)",
            )
            logger.info(
                "Chunk %d of %d (%s) is stored, %d%% done: %s.",
                chunk.index,
                chunk.count,
                chunk.days_text,
                percent,
                totals(rows),
            )
            for listener in CHUNK_LISTENERS:
                listener(chunk)
    create_table_artifact(
        key="backfill-summary",
        table=with_totals_row(summary),
        description=f"Backfill {span} ({zones}, both days included): articles, paragraphs and failures per "
        "chunk and source; the last row is the total",
    )
    logger.info("Backfill %s is done: %s.", span, totals(summary))
    from wirestance.flows.ingest import stance_summary_artifact

    stance_summary_artifact(
        resources.settings, dates.start_date, dates.end_date, sources, f"Stance of the coverage, backfill {span}"
    )
    for listener in CHUNK_LISTENERS:
        listener(None)
    return summary


def _run_chunk(
    shared: Resources | Settings, chunk: Chunk, request: ChunkRequest, span: str, progress: UUID
) -> list[dict[str, Any]]:
    """One chunk as a task; a failure says how to finish the backfill, then ends the run."""
    future = chunk_task.submit(shared, chunk.label, chunk.window, request)
    try:
        return future.result()
    except Exception:
        get_run_logger().error(
            "Chunk %d of %d (%s) failed; the chunks before it are stored. Run the backfill again over %s to "
            "finish: articles already stored count as unchanged.",
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
