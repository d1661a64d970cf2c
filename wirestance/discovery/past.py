"""Article candidates for a past window from every configured method, one per URL key (wirestance.urls.url_key)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from wirestance.discovery.config import DiscoveryConfig
from wirestance.discovery.indexes import commoncrawl_captures, commoncrawl_crawls, wayback_captures
from wirestance.discovery.sitemaps import scan_sitemaps
from wirestance.discovery.types import Candidate, Capture, IndexAnswerError
from wirestance.failures import Failure
from wirestance.fetch import PoliteFetcher, ResponseRecorder
from wirestance.settings import Settings
from wirestance.sources.base import Source, rebase
from wirestance.urls import url_key

log = logging.getLogger(__name__)


@dataclass
class PastDiscovery:
    source: str
    candidates: list[Candidate] = field(default_factory=list)
    #: URLs each method found (article pages only, before merging).
    found: dict[str, int] = field(default_factory=dict)
    not_articles: int = 0
    failures: list[Failure] = field(default_factory=list)


def archive_fetcher(
    settings: Settings, config: DiscoveryConfig, recorder: ResponseRecorder | None = None
) -> PoliteFetcher:
    """One fetcher for the archive hosts, so their per-host delay and Retry-After hold across all queries."""
    return PoliteFetcher(settings, archive_hosts(config), obey_robots=config.archive_obey_robots, recorder=recorder)


def archive_hosts(config: DiscoveryConfig) -> list[str]:
    """The hosts of the archive services (Wayback Machine, Common Crawl index and data)."""
    return sorted({(urlsplit(base).hostname or "").lower() for base in config.archive_bases} - {""})


def discover_past(
    source: Source,
    start: datetime,
    end: datetime,
    config: DiscoveryConfig,
    *,
    site: PoliteFetcher,
    archives: PoliteFetcher,
    site_origin: str | None = None,
    url_patterns: Sequence[str] | None = None,
    now: datetime | None = None,
) -> PastDiscovery:
    """Article URLs that may be published in [start, end), each once, with the captures found for it.

    `site_origin` is where robots.txt (and so the sitemaps) is read (default: the source's declared origin);
    the source's own sitemaps and news sitemaps are read too. `url_patterns` are the index queries (default:
    the source's `archive_patterns`, else "<domain>/*" per allowed domain). Problems are failures (stage
    "discover"), never raised.
    """
    result = PastDiscovery(source=source.name)
    merged: dict[str, Candidate] = {}

    def add(url: str, method: str, capture: Capture | None = None, **dates: datetime | None) -> None:
        if source.article_id(url) is None:
            result.not_articles += 1
            return
        result.found[method] = result.found.get(method, 0) + 1
        key = url_key(url)
        candidate = merged.setdefault(key, Candidate(url_key=key, url=url))
        candidate.found_by.add(method)
        if method == "sitemaps":
            candidate.url = url  # the site's own current address beats an archived spelling
            candidate.published = dates.get("published") or candidate.published
            candidate.lastmod = dates.get("lastmod") or candidate.lastmod
        if capture is not None and capture not in candidate.captures:
            candidate.captures.append(capture)

    # Archives capture a page after it appears: look past the window's end, but not into the future.
    last_day = min(end - timedelta(microseconds=1) + timedelta(days=config.capture_lag_days), now or datetime.now(UTC))
    first_day = start.date()
    patterns = list(url_patterns or source.index_patterns)
    for method in config.methods:
        try:
            if method == "sitemaps":
                origin = site_origin or source.site_origin
                declared = [rebase(url, site_origin) for url in (*source.sitemaps, *source.news_sitemaps)]
                scan = scan_sitemaps(site, origin, start, end, max_sitemaps=config.max_sitemaps, extra=declared)
                for entry in scan.entries:
                    add(entry.url, method, published=entry.published, lastmod=entry.lastmod)
                result.failures.extend(Failure(u, source.name, "discover", f"sitemaps: {r}") for u, r in scan.problems)
            elif method == "wayback":
                for pattern in patterns:
                    for capture in wayback_captures(
                        archives, config, pattern, first_day, last_day.date(), source.allowed_domains
                    ):
                        add(capture.original_url, method, capture)
            elif method == "commoncrawl":
                for crawl in commoncrawl_crawls(archives, config, first_day, last_day.date()):
                    for pattern in patterns:
                        for capture in commoncrawl_captures(
                            archives, config, crawl, pattern, first_day, last_day.date(), source.allowed_domains
                        ):
                            add(capture.original_url, method, capture)
        except IndexAnswerError as exc:
            log.warning("%s discovery for %s refused an answer: %s", method, source.name, exc)
            result.failures.append(Failure(exc.url, source.name, "discover", f"{method}: {exc.reason}"))
    for candidate in merged.values():
        candidate.captures.sort(key=lambda c: (c.timestamp, c.archive))
    result.candidates = list(merged.values())
    return result
