"""Where past articles are looked for and fetched from; every value can be set by `WIRESTANCE_DISCOVERY_<NAME>`.

The archive services' base URLs are settings so a mirror, or a loopback server in tests, can stand in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from wirestance.settings import values_from_env

FetchMode = Literal["live", "archive", "live-then-archive"]
Method = Literal["sitemaps", "wayback", "commoncrawl"]
FETCH_MODES: tuple[str, ...] = get_args(FetchMode)
METHODS: tuple[str, ...] = get_args(Method)


@dataclass(frozen=True)
class DiscoveryConfig:
    #: Discovery methods, in order; comma-separated in the environment.
    methods: tuple[str, ...] = METHODS
    #: Fetch pages from the live site, from the archived capture, or live first and the capture on failure.
    fetch_mode: str = "live-then-archive"
    #: Internet Archive: the CDX API is at <base>/cdx/search/cdx, raw captures at <base>/web/<ts>id_/<url>.
    wayback_base: str = "https://web.archive.org"
    #: Common Crawl URL index (<base>/collinfo.json, <base>/CC-MAIN-YYYY-WW-index).
    cc_index_base: str = "https://index.commoncrawl.org"
    #: Common Crawl WARC files, fetched by byte range.
    cc_data_base: str = "https://data.commoncrawl.org"
    #: Crawls to ask (e.g. "CC-MAIN-2019-47"); empty: those collinfo.json lists as overlapping the window.
    cc_crawls: tuple[str, ...] = ()
    #: Archives capture an article after it appears: ask for captures this many days past the window too.
    capture_lag_days: int = 30
    #: Rows per CDX page (the CDX server's resume key continues from there).
    cdx_page_size: int = 5000
    #: Pages of one index query at most, so a runaway answer cannot loop for ever.
    max_index_pages: int = 200
    #: Sitemap documents read per source and run at most (indexes included).
    max_sitemaps: int = 500
    #: Whether the archives' own robots.txt is obeyed (their APIs are made for programs, but it's polite).
    archive_obey_robots: bool = True

    def __post_init__(self) -> None:
        if self.fetch_mode not in FETCH_MODES:
            raise ValueError(f"fetch_mode {self.fetch_mode!r} is not one of {FETCH_MODES}")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise ValueError(f"unknown discovery methods {unknown}; known: {METHODS}")

    @classmethod
    def from_env(cls, **overrides: Any) -> DiscoveryConfig:
        return replace(cls(**values_from_env(cls, "WIRESTANCE_DISCOVERY_")), **overrides)

    @property
    def archive_bases(self) -> tuple[str, ...]:
        return (self.wayback_base, self.cc_index_base, self.cc_data_base)
