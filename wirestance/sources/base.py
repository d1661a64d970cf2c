"""What every agency module provides. Adding an agency is one module implementing `Source`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from wirestance.articles import Article


class Source(Protocol):
    #: Short stable name used in the lake's `source` column and on the command line ("anadolu").
    name: str
    #: Hosts (and their subdomains) that feeds, pages and redirects may point to.
    allowed_domains: tuple[str, ...]
    #: Feed categories used when none are given.
    default_categories: tuple[str, ...]

    def feed_urls(self, categories: Sequence[str], base_url: str | None = None) -> list[str]:
        """RSS feed URLs for the given categories; `base_url` replaces the site's origin (offline sample)."""
        ...

    def article_id(self, url: str) -> str | None:
        """The agency's own id for an article URL, or None if the URL is not an article page."""
        ...

    def parse(self, html: bytes | str, url: str) -> Article:
        """Parse one page with the parser version that fits its markup; raise NotAnArticle otherwise."""
        ...
