"""Ingest a time window of each source's feeds: discover, then fetch, parse, label and store in batches.

The `ingest` flows (and each feeds chunk of a backfill) run `ingest_window`, handing it their Prefect tasks
as the discover and batch steps; tests call it with the plain steps below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from wirestance.failures import Failure
from wirestance.lake.store import iter_batches
from wirestance.pipeline import Discovery, Window, discover, process_batch, store_failures
from wirestance.reports import SourceReport
from wirestance.resources import Resources


@dataclass(frozen=True)
class IngestRequest:
    """What to ingest: the sources' articles published in `window`."""

    window: Window
    sources: tuple[str, ...] = ("anadolu",)
    #: Feed categories (None: each source's defaults).
    categories: tuple[str, ...] | None = None
    #: Replaces the sites' origin (a mirror or the offline sample).
    feed_base_url: str | None = None
    #: Read these feeds instead of the sources' category feeds.
    feed_urls: tuple[str, ...] | None = None
    #: Replace stored articles even when unchanged (new parsers or model).
    reprocess: bool = False
    #: Conditional GETs of the feeds (a scheduled run skips a feed that has not changed).
    conditional: bool = False
    #: When the run must end (`ingest_window` sets it from Settings.run_deadline): batches not started by
    #: then are failures, the one in flight stops at it.
    deadline: datetime | None = None

    @property
    def base_url(self) -> str | None:
        """Where the articles are fetched from: `feed_base_url`, or the origin of explicit feeds (a mirror,
        the offline sample), or None for the sources' own sites."""
        if self.feed_base_url or not self.feed_urls:
            return self.feed_base_url
        parts = urlsplit(self.feed_urls[0])
        return f"{parts.scheme}://{parts.netloc}"


DiscoverStep = Callable[[Resources, str, IngestRequest], Discovery]
BatchStep = Callable[[Resources, str, list[str], IngestRequest], SourceReport]


def discover_source(resources: Resources, source: str, request: IngestRequest) -> Discovery:
    """The articles a source's feeds list in the request's window."""
    return discover(
        resources,
        source,
        request.categories,
        request.window,
        request.base_url,
        feed_urls=request.feed_urls,
        conditional=request.conditional,
    )


def store_batch(resources: Resources, source: str, urls: list[str], request: IngestRequest) -> SourceReport:
    """Fetch, parse, label (with the run's model) and store one batch of a source's articles."""
    return process_batch(
        resources,
        source,
        urls,
        resources.model,
        request.base_url,
        reprocess=request.reprocess,
        run_deadline=request.deadline,
    )


def ingest_window(
    resources: Resources,
    request: IngestRequest,
    run_id: str,
    *,
    discover_step: DiscoverStep = discover_source,
    batch_step: BatchStep = store_batch,
) -> list[SourceReport]:
    """Ingest every source of the request; one report per source.

    Failures go to the lake under `run_id` as they happen (discovery's, then each batch's), so a run killed
    later keeps them. The run ends at Settings.run_deadline (or the request's own `deadline`): batches not
    started by then are failures, the one in flight stops at it.
    """
    if request.deadline is None:
        request = replace(request, deadline=datetime.now(UTC) + timedelta(seconds=resources.settings.run_deadline))
    assert request.deadline is not None
    reports = []
    for source in request.sources:
        found = discover_step(resources, source, request)
        store_failures(resources, found.failures, run_id)
        report = SourceReport(
            source=source,
            discovered=len(found.items),
            out_of_window=found.out_of_window,
            failures=list(found.failures),
        )
        for batch in iter_batches([item.url for item in found.items], resources.settings.batch_size):
            if datetime.now(UTC) >= request.deadline:
                late = [
                    Failure(url, source, "fetch", f"{url}: the run deadline passed before it was fetched")
                    for url in batch
                ]
                store_failures(resources, late, run_id)
                report.failures.extend(late)
                continue
            outcome = batch_step(resources, source, batch, request)
            store_failures(resources, outcome.failures, run_id)
            report.add(outcome)
        reports.append(report)
    resources.flush()  # seal the WARC file: its records get indexed and a reprocess sees them
    return reports


def as_tuple(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """A flow's list parameter as the request's tuple (None and empty stay None)."""
    return tuple(values) if values else None
