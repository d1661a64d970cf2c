"""Fetching a candidate article live, from an archived capture, or live first and the capture on failure.

Every request goes through a PoliteFetcher (per-host delay, Retry-After, robots.txt, the recorder), one for
the site and one for the archive hosts.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from wirestance.archive.records import unwrap_warc_capture
from wirestance.discovery.config import DiscoveryConfig
from wirestance.discovery.types import Candidate, Capture
from wirestance.fetch import FetchError, FetchResult, PoliteFetcher
from wirestance.urls import parse_wayback


@dataclass(frozen=True)
class FetchedPage:
    url: str  # what to parse the page as: the live address, or the original URL of a capture
    result: FetchResult  # the page's own status, headers and body (a capture's, unwrapped)
    capture_time: datetime | None = None
    capture_origin: str | None = None  # "wayback" | "commoncrawl"; None when fetched live


class PageFetcher:
    def __init__(
        self,
        site: PoliteFetcher,
        archives: PoliteFetcher,
        config: DiscoveryConfig,
        *,
        live_base_url: str | None = None,
    ) -> None:
        """`live_base_url` replaces the articles' origin for live fetches (a mirror, the offline sample)."""
        self.site = site
        self.archives = archives
        self.config = config
        self.live_base_url = live_base_url

    def fetch(self, candidate: Candidate) -> FetchedPage:
        """The page, by the configured mode; FetchError naming every attempt when none answered 200."""
        reasons: list[str] = []
        if self.config.fetch_mode in ("live", "live-then-archive"):
            try:
                page = self.fetch_live(candidate.url)
                if page.result.status == 200:
                    return page
                reasons.append(f"live: HTTP {page.result.status}")
            except FetchError as exc:
                reasons.append(f"live: {exc.reason}")
            if self.config.fetch_mode == "live":
                raise FetchError(candidate.url, "; ".join(reasons))
        if not candidate.captures:
            reasons.append("no archived capture")
        for capture in candidate.captures:
            try:
                page = self.fetch_capture(capture)
            except FetchError as exc:
                reasons.append(f"{capture.archive} {capture.timestamp}: {exc.reason}")
                continue
            if page.result.status == 200:
                return page
            reasons.append(f"{capture.archive} {capture.timestamp}: HTTP {page.result.status}")
        raise FetchError(candidate.url, "; ".join(reasons))

    def fetch_live(self, url: str) -> FetchedPage:
        address = _rebase(url, self.live_base_url) if self.live_base_url else url
        return FetchedPage(address, self.site.get(address))

    def fetch_capture(self, capture: Capture) -> FetchedPage:
        if capture.archive == "wayback":
            return self._wayback(capture)
        if capture.archive == "commoncrawl":
            return self._commoncrawl(capture)
        raise FetchError(capture.original_url, f"unknown archive {capture.archive!r}")

    def _wayback(self, capture: Capture) -> FetchedPage:
        # The raw form (`id_`) is the page as captured, without the archive's toolbar and rewritten links.
        address = f"{self.config.wayback_base.rstrip('/')}/web/{capture.timestamp}id_/{capture.original_url}"
        result = self.archives.get(address)
        # The archive may redirect to the nearest capture; the final address has its real time.
        landed = parse_wayback(result.final_url)
        when = landed.capture_time if landed else capture.capture_time
        return FetchedPage(capture.original_url, result, when, "wayback")

    def _commoncrawl(self, capture: Capture) -> FetchedPage:
        if capture.filename is None or capture.offset is None or capture.length is None:
            raise FetchError(capture.original_url, "Common Crawl capture without filename, offset and length")
        address = f"{self.config.cc_data_base.rstrip('/')}/{capture.filename.lstrip('/')}"
        last = capture.offset + capture.length - 1
        result = get_with_headers(self.archives, address, {"Range": f"bytes={capture.offset}-{last}"})
        if result.status != 206:
            raise FetchError(address, f"HTTP {result.status} to a range request (206 expected)")
        inner = unwrap_warc_capture(result.body)
        if inner is None:
            raise FetchError(address, f"bytes {capture.offset}-{last} are not a gzipped WARC response record")
        page = FetchResult(
            url=inner.target_uri,
            final_url=inner.target_uri,
            status=inner.status or 0,
            headers=inner.http_headers,
            body=inner.payload,
            fetched_at=result.fetched_at,
        )
        return FetchedPage(inner.target_uri, page, inner.date, "commoncrawl")


def get_with_headers(fetcher: PoliteFetcher, url: str, headers: Mapping[str, str]) -> FetchResult:
    """GET with extra request headers (a Range), through the same checks, pacing and retries as `get`."""
    if "headers" in inspect.signature(fetcher.get).parameters:
        return fetcher.get(url, headers=dict(headers))  # type: ignore[call-arg]
    # PoliteFetcher.get takes no headers yet (a change is proposed); until then use the path get() takes.
    fetcher._check_url(url)
    if fetcher.obey_robots and not fetcher._robots_allow(url):
        raise FetchError(url, "disallowed by robots.txt")
    return fetcher._get_following_redirects(url, dict(headers))


def _rebase(url: str, base: str) -> str:
    parts, target = urlsplit(url), urlsplit(base)
    return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, ""))
