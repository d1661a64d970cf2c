"""The `ingest` flow: feeds of each source over a time window -> lake, and its scheduled flavour."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from wirestance.flows.resources import open_resources
from wirestance.ingest import IngestRequest, as_tuple, discover_source, ingest_window, store_batch
from wirestance.pipeline import Discovery, Window
from wirestance.report.data import window_days
from wirestance.reports import SourceReport
from wirestance.resources import Resources
from wirestance.settings import Settings
from wirestance.sources import enabled_source_names


@task(name="discover-feeds", retries=2, retry_delay_seconds=[1, 5], cache_policy=NO_CACHE)
def discover_task(resources: Resources, source: str, request: IngestRequest) -> Discovery:
    found = discover_source(resources, source, request)
    logger = get_run_logger()
    logger.info(
        "%s: the feeds list %s in the window, %d outside it, and %s.",
        source,
        _count(len(found.items), "article"),
        found.out_of_window,
        _count(len(found.failures), "feed problem"),
    )
    for item in found.failures:
        logger.warning("discover failed: %s", item.reason)
    return found


@task(name="ingest-batch", retries=1, retry_delay_seconds=5, cache_policy=NO_CACHE)
def batch_task(resources: Resources, source: str, urls: list[str], request: IngestRequest) -> SourceReport:
    outcome = store_batch(resources, source, urls, request)
    logger = get_run_logger()
    for item in outcome.failures:
        logger.warning("%s failed at %s: %s", item.url, item.stage, item.reason)
    return outcome


def run_ingest(
    resources: Resources, request: IngestRequest, artifact_key: str | None = "ingest-summary"
) -> list[SourceReport]:
    """The body of both ingest flows (and of a backfill's feeds chunk): one report per source, and the
    per-source table artifact (none when `artifact_key` is None: a backfill leaves its own per chunk)."""
    run_id = str(flow_run.id or uuid.uuid4())
    reports = ingest_window(resources, request, run_id, discover_step=discover_task, batch_step=batch_task)
    rows = [report.as_row() for report in reports]
    window = request.window
    if artifact_key is not None:
        create_table_artifact(
            key=artifact_key,
            table=rows,
            description=f"Ingest {window.start.isoformat()} -> {window.end.isoformat()}: per source counts",
        )
    logger = get_run_logger()
    for row in rows:
        logger.info(
            "%s: %s articles in the window, %s new, %s updated, %s unchanged, %s paragraphs written, %s failed.",
            row.get("source"),
            row.get("discovered", 0),
            row.get("new", 0),
            row.get("updated", 0),
            row.get("unchanged", 0),
            row.get("paragraphs", 0),
            row.get("failed", 0),
        )
    return reports


@flow(name="ingest", log_prints=True)
def ingest(
    start: datetime,
    end: datetime,
    sources: list[str] | None = None,
    categories: list[str] | None = None,
    feed_base_url: str | None = None,
    feed_urls: list[str] | None = None,
    reprocess: bool = False,
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Ingest the articles each source's feeds list with a publication time in [start, end).

    `feed_base_url` replaces the site's origin (a mirror or the offline sample); `feed_urls` replaces the
    category feeds altogether. `settings` default to the environment (WIRESTANCE_*).
    """
    request = IngestRequest(
        Window(_aware(start), _aware(end)),
        as_tuple(sources) or tuple(enabled_source_names()),
        as_tuple(categories),
        feed_base_url,
        as_tuple(feed_urls),
        reprocess=reprocess,
    )
    with open_resources(settings) as resources:
        rows = [report.as_row() for report in run_ingest(resources, request)]
        first, last = window_days(request.window, list(request.sources))
        title = f"Stance of the coverage, ingest {first} to {last}"
        stance_summary_artifact(resources.settings, first, last, list(request.sources), title)
    return rows


@flow(name="ingest-latest", log_prints=True)
def ingest_latest(
    lookback_minutes: int = 30,
    overlap_minutes: int = 30,
    sources: list[str] | None = None,
    categories: list[str] | None = None,
    feed_base_url: str | None = None,
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Scheduled flavour: the window ends at the run's scheduled time and reaches back one interval plus an
    overlap, so a late or skipped run loses nothing (already stored articles count as unchanged)."""
    scheduled = flow_run.scheduled_start_time
    end = scheduled if scheduled is not None else datetime.now(UTC)
    end = _aware(datetime.fromisoformat(str(end))) if not isinstance(end, datetime) else _aware(end)
    window = Window(end - timedelta(minutes=lookback_minutes + overlap_minutes), end)
    request = IngestRequest(
        window,
        as_tuple(sources) or tuple(enabled_source_names()),
        as_tuple(categories),
        feed_base_url,
        conditional=True,
    )
    with open_resources(settings) as resources:
        rows = [report.as_row() for report in run_ingest(resources, request, "ingest-latest-summary")]
        first, last = window_days(window, list(request.sources))
        title = f"Stance of the coverage, {first} to {last}"
        stance_summary_artifact(resources.settings, first, last, list(request.sources), title)
    return rows


def stance_summary_artifact(
    settings: Settings, first_day: date, last_day: date, sources: list[str], title: str
) -> None:
    """The `stance-summary` markdown artifact: per-side shares per agency over the days, and the report's path.
    A summary that cannot be made is a warning: the ingested data is stored either way."""
    from wirestance.report import stance_summary_for_days
    from wirestance.report.data import reports_dir

    try:
        markdown = stance_summary_for_days(
            settings.lake_url, reports_dir(settings), first_day, last_day, sources, title=title
        )
    except Exception as exc:
        get_run_logger().warning("The stance summary of %s to %s could not be made: %s.", first_day, last_day, exc)
        return
    create_markdown_artifact(key="stance-summary", markdown=markdown, description=title)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")
