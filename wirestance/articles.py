"""The cleaned article every source parser returns, and the error for pages that are not one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


class NotAnArticle(ValueError):
    """A page that cannot be parsed into a whole article (index page, 404 page, empty body, unknown layout).

    The message always names the input and what is wrong, so a run summary can show it as is.
    """

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Article:
    url: str
    canonical_url: str
    source: str
    article_id: str
    title: str
    lede: str | None
    authors: list[str]
    published: datetime  # always timezone-aware
    updated: datetime | None  # timezone-aware when present
    dateline: str | None
    category: str | None
    tags: list[str]
    language: str
    paragraphs: list[str]
    parser_version: str
    # Set when the page came from a web archive rather than the live site.
    capture_time: datetime | None = field(default=None)
    capture_origin: str | None = field(default=None)
    # The WARC payload digest of the response body the article was parsed from ("sha1:<base32>"), when it
    # came through `pages.parse_page`: a reprocess does not parse the same bytes again (wirestance.reprocess).
    payload_digest: str | None = field(default=None)

    def __post_init__(self) -> None:
        if self.published.tzinfo is None:
            raise ValueError(f"{self.url}: published time must be timezone-aware")
        if self.updated is not None and self.updated.tzinfo is None:
            raise ValueError(f"{self.url}: updated time must be timezone-aware")

    def to_json_dict(self) -> dict[str, Any]:
        """The `wirestance parse` contract: the fields above but the payload digest (which bytes were parsed is
        not part of the article), dates as ISO 8601 strings."""
        out = asdict(self)
        del out["payload_digest"]
        for key in ("published", "updated", "capture_time"):
            value = out[key]
            out[key] = value.isoformat() if value is not None else None
        return out
