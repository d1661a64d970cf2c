"""One backfill chunk from past-date discovery: find, skip what is stored, fetch, parse, label, store.

The backfill calls `backfill_window` once per chunk and source; the report says what the chunk found,
skipped as already stored, fetched (and how many from an archive), stored, and what failed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pyarrow.compute as pc

from wirestance.articles import Article
from wirestance.discovery.captures import FetchedPage, PageFetcher
from wirestance.discovery.config import DiscoveryConfig
from wirestance.discovery.past import archive_hosts, discover_past
from wirestance.discovery.types import Candidate
from wirestance.failures import Failure
from wirestance.fetch import PoliteFetcher
from wirestance.identity import one_page_per_article
from wirestance.pages import Page, parse_page
from wirestance.pipeline import StanceLabeller, Window, article_rows
from wirestance.reports import SourceReport
from wirestance.resources import Resources
from wirestance.settings import Settings
from wirestance.sources import get_source
from wirestance.sources.base import Source


def backfill_window(
    resources: Resources,
    source_name: str,
    window: Window,
    model: StanceLabeller,
    config: DiscoveryConfig,
    *,
    archives: PoliteFetcher | None = None,
    site_origin: str | None = None,
    live_base_url: str | None = None,
) -> SourceReport:
    """Store the articles of `source_name` published in `window` that discovery finds and the lake lacks.

    `archives` defaults to the run's fetcher for the archive hosts, so their per-host delay holds across
    chunks too.
    """
    source = get_source(source_name)
    report = SourceReport(source=source.name)
    site = resources.fetcher(source, live_base_url)
    archives = archives or archives_fetcher(resources, config)
    found = discover_past(
        source, window.start, window.end, config, site=site, archives=archives, site_origin=site_origin
    )
    report.discovered = len(found.candidates)
    report.failures.extend(found.failures)
    stored = _stored_ids(resources, source.name)
    todo = [c for c in found.candidates if source.article_id(c.url) not in stored]
    report.skipped_stored = len(found.candidates) - len(todo)
    pages = PageFetcher(site, archives, config, live_base_url=live_base_url)
    workers = max(1, resources.settings.per_host_concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="backfill") as pool:
        results = list(pool.map(lambda c: _fetch_and_parse(pages, source, c, resources.settings), todo))
    parsed: list[tuple[Article, datetime]] = []
    for result in results:
        if isinstance(result, Failure):
            report.failures.append(result)
            continue
        article, page = result
        report.fetched += 1
        report.from_archive += page.capture_origin is not None
        if window.contains(article.published):
            parsed.append((article, page.fetched_at))
        else:
            report.out_of_window += 1
    parsed, duplicates = one_page_per_article(parsed, resources.kept_pages)
    report.failures.extend(duplicates)
    if parsed:
        articles, paragraphs = article_rows(parsed, model)
        report.counts = resources.lake.upsert(articles, paragraphs)
    return report


def archives_fetcher(resources: Resources, config: DiscoveryConfig) -> PoliteFetcher:
    """The run's fetcher for the archive hosts under `config` (made on first use)."""
    return resources.fetcher_for(("archives", config), archive_hosts(config), obey_robots=config.archive_obey_robots)


def _fetch_and_parse(
    pages: PageFetcher, source: Source, candidate: Candidate, settings: Settings
) -> tuple[Article, Page] | Failure:
    def fetch() -> Page:
        fetched: FetchedPage = pages.fetch(candidate)
        result = fetched.result
        return Page(
            fetched.url,
            result.body,
            result.declared_charset,
            result.fetched_at,
            fetched.capture_time,
            fetched.capture_origin,
        )

    return parse_page(source, candidate.url, fetch, settings)


def _stored_ids(resources: Resources, source: str) -> set[str]:
    table = resources.lake.read("articles", columns=["source", "article_id"])
    table = table.filter(pc.equal(table["source"], source))
    return set(table["article_id"].to_pylist())
