"""What discovery finds: article candidates with the archived captures that can stand in for the live page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


class IndexAnswerError(Exception):
    """An archive index answered something we refuse to use (not JSON, wrong shape, foreign URLs)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class Capture:
    """One archived copy of a page, in the Wayback Machine or a Common Crawl WARC file."""

    archive: str  # "wayback" | "commoncrawl"
    original_url: str
    timestamp: str  # YYYYMMDDhhmmss, UTC
    digest: str | None = None
    # Common Crawl only: the record's place in its WARC file.
    filename: str | None = None
    offset: int | None = None
    length: int | None = None

    @property
    def capture_time(self) -> datetime:
        return datetime.strptime(self.timestamp[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)


@dataclass
class Candidate:
    """An article URL found for a past window, and what is known of it before fetching."""

    url_key: str  # the dedup key (wirestance.urls.url_key)
    url: str  # the address to fetch live (the first spelling met)
    published: datetime | None = None  # a news sitemap's publication date
    lastmod: datetime | None = None
    captures: list[Capture] = field(default_factory=list)
    found_by: set[str] = field(default_factory=set)
