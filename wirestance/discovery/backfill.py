"""One backfill chunk from past-date discovery: find, skip what is stored, fetch, parse, label, store.

The `backfill` flow calls `backfill_window` once per chunk and source; the report says what the chunk
found, skipped as already stored, fetched (and how many from an archive), stored, and what failed.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pyarrow.compute as pc

from wirestance.articles import Article, NotAnArticle
from wirestance.discovery.captures import FetchedPage, PageFetcher
from wirestance.discovery.config import DiscoveryConfig
from wirestance.discovery.past import archive_fetcher, discover_past
from wirestance.discovery.types import Candidate, failure
from wirestance.fetch import FetchError, PoliteFetcher, ResponseRecorder, decode_body
from wirestance.lake import WriteCounts
from wirestance.pipeline import Runtime, StanceLabeller, Window, article_rows, one_page_per_article, screen_article
from wirestance.settings import Settings
from wirestance.sources import get_source
from wirestance.sources.base import Source


@dataclass
class ChunkReport:
    source: str
    found: int = 0
    skipped_stored: int = 0
    fetched: int = 0
    from_archive: int = 0
    out_of_window: int = 0
    counts: WriteCounts = field(default_factory=WriteCounts)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_row(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "found": self.found,
            "skipped_stored": self.skipped_stored,
            "fetched": self.fetched,
            "from_archive": self.from_archive,
            "out_of_window": self.out_of_window,
            "new": self.counts.new,
            "updated": self.counts.updated,
            "unchanged": self.counts.unchanged,
            "failed": len(self.failures),
            "paragraphs": self.counts.paragraphs_written,
        }


def backfill_window(
    runtime: Runtime,
    source_name: str,
    window: Window,
    model: StanceLabeller,
    config: DiscoveryConfig,
    *,
    archives: PoliteFetcher | None = None,
    site_origin: str | None = None,
    live_base_url: str | None = None,
) -> ChunkReport:
    """Store the articles of `source_name` published in `window` that discovery finds and the lake lacks.

    `archives` defaults to one fetcher per process and configuration, so the archives' per-host delay
    holds across chunks too.
    """
    source = get_source(source_name)
    report = ChunkReport(source=source.name)
    site = runtime.fetcher(source, live_base_url)
    archives = archives or shared_archive_fetcher(runtime.settings, config, getattr(runtime, "recorder", None))
    found = discover_past(
        source, window.start, window.end, config, site=site, archives=archives, site_origin=site_origin
    )
    report.found = len(found.candidates)
    report.failures.extend(found.failures)
    stored = _stored_ids(runtime, source.name)
    todo = [c for c in found.candidates if source.article_id(c.url) not in stored]
    report.skipped_stored = len(found.candidates) - len(todo)
    pages = PageFetcher(site, archives, config, live_base_url=live_base_url)
    workers = max(1, runtime.settings.per_host_concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="backfill") as pool:
        results = list(pool.map(lambda c: _fetch_and_parse(pages, source, c, runtime.settings), todo))
    parsed: list[tuple[Article, datetime]] = []
    for result in results:
        if isinstance(result, dict):
            report.failures.append(result)
            continue
        page, article = result
        report.fetched += 1
        report.from_archive += page.capture_origin is not None
        if window.contains(article.published):
            parsed.append((article, page.result.fetched_at))
        else:
            report.out_of_window += 1
    parsed, duplicates = one_page_per_article(parsed)
    report.failures.extend(duplicates)
    if parsed:
        articles, paragraphs = article_rows(parsed, model)
        report.counts = runtime.lake.upsert(articles, paragraphs)
    return report


_shared: dict[tuple[Settings, DiscoveryConfig, int], PoliteFetcher] = {}
_shared_lock = threading.Lock()


def shared_archive_fetcher(
    settings: Settings, config: DiscoveryConfig, recorder: ResponseRecorder | None = None
) -> PoliteFetcher:
    """The process's fetcher for the archive hosts under these settings (made on first use)."""
    key = (settings, config, id(recorder))
    with _shared_lock:
        if key not in _shared:
            _shared[key] = archive_fetcher(settings, config, recorder)
        return _shared[key]


def _fetch_and_parse(
    pages: PageFetcher, source: Source, candidate: Candidate, settings: Settings
) -> tuple[FetchedPage, Article] | dict[str, Any]:
    try:
        page = pages.fetch(candidate)
    except FetchError as exc:
        return failure(candidate.url, source.name, "fetch", str(exc))
    try:
        article = source.parse(decode_body(page.result.body, page.result.declared_charset), url=page.url)
        article = screen_article(article, settings)
    except NotAnArticle as exc:
        return failure(candidate.url, source.name, "parse", str(exc))
    except Exception as exc:  # a parser bug must not sink the chunk; it is recorded with its type
        return failure(candidate.url, source.name, "parse", f"{page.url}: {type(exc).__name__}: {exc}")
    if page.capture_time is not None:
        article = replace(article, capture_time=page.capture_time, capture_origin=page.capture_origin)
    return page, article


def _stored_ids(runtime: Runtime, source: str) -> set[str]:
    table = runtime.lake.read("articles", columns=["source", "article_id"])
    table = table.filter(pc.equal(table["source"], source))
    return set(table["article_id"].to_pylist())
