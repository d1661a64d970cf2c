"""The `ingest` flow: feeds of each source over a time window -> lake, and its scheduled flavour."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from wirestance.lake.store import iter_batches
from wirestance.pipeline import BatchOutcome, Discovery, Runtime, Window, discover, process_batch
from wirestance.report.data import window_days
from wirestance.settings import Settings

_runtimes: dict[Settings, Runtime] = {}


def runtime_for(settings: Settings) -> Runtime:
    """One Runtime per settings in this process, so tasks share fetchers (pacing, robots.txt)."""
    if settings not in _runtimes:
        _runtimes[settings] = Runtime(settings)
    return _runtimes[settings]


def champion_model(settings: Settings) -> Any:
    from wirestance.classifiers.registry import load_champion

    return load_champion(settings)


@task(name="discover-feeds", retries=2, retry_delay_seconds=[1, 5], cache_policy=NO_CACHE)
def discover_task(
    settings: Settings,
    source: str,
    categories: list[str] | None,
    window: Window,
    feed_base_url: str | None,
    feed_urls: list[str] | None,
    conditional: bool,
) -> Discovery:
    found = discover(
        runtime_for(settings),
        source,
        categories,
        window,
        feed_base_url,
        feed_urls=feed_urls,
        conditional=conditional,
    )
    logger = get_run_logger()
    logger.info(
        "The feeds of %s list %d articles in the window and %d outside it; %d feeds could not be read.",
        source,
        len(found.items),
        found.out_of_window,
        len(found.failures),
    )
    for item in found.failures:
        logger.warning("A feed could not be read: %s.", item["reason"])
    return found


@task(name="ingest-batch", retries=1, retry_delay_seconds=5, cache_policy=NO_CACHE)
def batch_task(
    settings: Settings, source: str, urls: list[str], feed_base_url: str | None, reprocess: bool
) -> BatchOutcome:
    outcome = process_batch(
        runtime_for(settings), source, urls, champion_model(settings), feed_base_url, reprocess=reprocess
    )
    logger = get_run_logger()
    for item in outcome.failures:
        logger.warning("%s failed at the %s stage: %s.", item["url"], item["stage"], item["reason"])
    return outcome


def run_ingest(
    settings: Settings,
    window: Window,
    sources: list[str],
    categories: list[str] | None,
    feed_base_url: str | None,
    feed_urls: list[str] | None,
    reprocess: bool,
    conditional: bool,
    artifact_key: str | None = "ingest-summary",
) -> list[dict[str, Any]]:
    """The body of both ingest flows; returns one summary row per source (and leaves them as a table
    artifact under `artifact_key` unless it is None)."""
    if feed_urls and not feed_base_url:
        # Explicit feeds (a mirror, the offline sample): their origin is where the articles are fetched from.
        parts = urlsplit(feed_urls[0])
        feed_base_url = f"{parts.scheme}://{parts.netloc}"
    run_id = str(flow_run.id or uuid.uuid4())
    lake = runtime_for(settings).lake
    rows = []
    for source in sources:
        found = discover_task(settings, source, categories, window, feed_base_url, feed_urls, conditional)
        totals = BatchOutcome(source=source, failures=list(found.failures))
        urls = [item.url for item in found.items]
        for batch in iter_batches(urls, settings.batch_size):
            outcome = batch_task(settings, source, batch, feed_base_url, reprocess)
            totals.fetched += outcome.fetched
            totals.counts += outcome.counts
            totals.failures.extend(outcome.failures)
        lake.append_failures(totals.failures, run_id)
        rows.append({**totals.as_row(), "discovered": len(found.items), "out_of_window": found.out_of_window})
    recorder = runtime_for(settings).recorder
    if recorder is not None:
        recorder.flush()  # seal the WARC file: its records get indexed and a reprocess sees them
    if artifact_key is not None:
        create_table_artifact(
            key=artifact_key,
            table=rows,
            description=f"Ingest {window.start.isoformat()} -> {window.end.isoformat()}: per source counts",
        )
    logger = get_run_logger()
    for row in rows:
        logger.info(
            "%s: %d articles in the window, %d new, %d updated, %d unchanged, %d paragraphs written, %d failures.",
            row["source"],
            row.get("discovered", 0),
            row.get("new", 0),
            row.get("updated", 0),
            row.get("unchanged", 0),
            row.get("paragraphs", 0),
            row.get("failed", 0),
        )
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


@flow(name="ingest", log_prints=True)
def ingest(
    start: datetime,
    end: datetime,
    sources: list[str] | None = None,
    categories: list[str] | None = None,
    feed_base_url: str | None = None,
    feed_urls: list[str] | None = None,
    reprocess: bool = False,
) -> list[dict[str, Any]]:
    """Ingest the articles each source's feeds list with a publication time in [start, end).

    `feed_base_url` replaces the site's origin (a mirror or the offline sample); `feed_urls` replaces the
    category feeds altogether.
    """
    settings = Settings.from_env()
    window = Window(_aware(start), _aware(end))
    sources = sources or ["anadolu"]
    rows = run_ingest(settings, window, sources, categories, feed_base_url, feed_urls, reprocess, False)
    first, last = window_days(window, sources)
    stance_summary_artifact(settings, first, last, sources, title=f"Stance of the coverage, ingest {first} to {last}")
    return rows


@flow(name="ingest-latest", log_prints=True)
def ingest_latest(
    lookback_minutes: int = 30,
    overlap_minutes: int = 30,
    sources: list[str] | None = None,
    categories: list[str] | None = None,
    feed_base_url: str | None = None,
) -> list[dict[str, Any]]:
    """Scheduled flavour: the window ends at the run's scheduled time and reaches back one interval plus an
    overlap, so a late or skipped run loses nothing (already stored articles count as unchanged)."""
    scheduled = flow_run.scheduled_start_time
    end = scheduled if scheduled is not None else datetime.now(UTC)
    end = _aware(datetime.fromisoformat(str(end))) if not isinstance(end, datetime) else _aware(end)
    window = Window(end - timedelta(minutes=lookback_minutes + overlap_minutes), end)
    settings = Settings.from_env()
    sources = sources or ["anadolu"]
    rows = run_ingest(settings, window, sources, categories, feed_base_url, None, False, True, "ingest-latest-summary")
    first, last = window_days(window, sources)
    stance_summary_artifact(settings, first, last, sources, title=f"Stance of the coverage, {first} to {last}")
    return rows


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
