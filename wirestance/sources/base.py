"""The declaration of one agency source: where its articles are listed and which parser reads them.

A `Source` is data (one `[sources.<name>]` table of sources.toml, see registry.py) plus the parser it
names: a dedicated module `wirestance.sources.<parser>` (its `LAYOUTS` and `article_id`) or "generic"
(trafilatura's body with JSON-LD / Open Graph metadata, for any site). Nothing outside the registry
names a source.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import ModuleType
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from wirestance.articles import Article, NotAnArticle

if TYPE_CHECKING:
    from wirestance.settings import Settings

GENERIC = "generic"
FeedFormat = Literal["rss", "atom"]
# Hosts of the offline replay and of loopback mirrors: URLs there stand for the source's own pages.
_LOOPBACK_HOSTS = frozenset({"localhost", "::1"})


@dataclass(frozen=True)
class Feed:
    """One RSS 2.0 or Atom feed of the source."""

    url: str
    category: str | None = None
    format: FeedFormat = "rss"


@dataclass(frozen=True)
class Politeness:
    """Per-source overrides of the fetch settings (None: the global setting applies)."""

    per_host_delay: float | None = None
    per_host_concurrency: int | None = None
    max_body_bytes: int | None = None

    def apply(self, settings: Settings) -> Settings:
        changes = {name: value for name, value in vars(self).items() if value is not None}
        return replace(settings, **changes) if changes else settings


@dataclass(frozen=True)
class Source:
    #: Short stable name: the lake's `source` column and the command line ("anadolu").
    name: str
    #: Hosts (and their subdomains) that feeds, sitemaps, pages and redirects may point to.
    allowed_domains: tuple[str, ...]
    #: IANA zone the agency prints its times in; backfill days and `published_date` are counted in it.
    timezone: str
    #: Language of the edition (ISO 639-1), for articles whose page does not say.
    language: str
    #: A dedicated parser module name under wirestance.sources, or "generic".
    parser: str
    enabled: bool = True
    #: Where the site starts (feeds' and sitemaps' origin when a mirror stands in; robots.txt is read here).
    origin: str = ""
    feeds: tuple[Feed, ...] = ()
    #: A feed URL with `{category}` for categories without a declared feed (AA: any section has a feed).
    feed_template: str | None = None
    #: Categories read when none are asked for; empty: every declared feed.
    default_categories: tuple[str, ...] = ()
    #: Sitemaps and sitemap indexes (besides those robots.txt declares).
    sitemaps: tuple[str, ...] = ()
    #: Google News sitemaps: the latest articles with their publication times.
    news_sitemaps: tuple[str, ...] = ()
    #: Regex an article URL matches; its group `id` (else the whole path) is the article id. Required for
    #: a generic source; a dedicated module's own `article_id` decides otherwise (the pattern then narrows it).
    article_url: re.Pattern[str] | None = None
    #: URL patterns for the Wayback CDX and Common Crawl indexes ("aa.com.tr/en/*"); default: every domain.
    archive_patterns: tuple[str, ...] = ()
    politeness: Politeness = field(default_factory=Politeness)
    #: With a dedicated parser: a page no layout knows is read by the generic parser, tagged as such.
    generic_fallback: bool = False

    # --- what the rest of the pipeline asks -------------------------------------------------------

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_generic(self) -> bool:
        return self.parser == GENERIC

    @property
    def index_patterns(self) -> tuple[str, ...]:
        return self.archive_patterns or tuple(f"{domain}/*" for domain in self.allowed_domains)

    @property
    def site_origin(self) -> str:
        return self.origin or f"https://www.{self.allowed_domains[0]}"

    def feed_urls(self, categories: Sequence[str] = (), base_url: str | None = None) -> list[str]:
        """Feed URLs for the categories (default: `default_categories`, else every feed); `base_url`
        replaces the site's origin (a mirror or the offline sample). ValueError for an unknown category."""
        chosen = [c.strip() for c in categories if c.strip()] or list(self.default_categories)
        if not chosen:
            urls = [feed.url for feed in self.feeds]
        else:
            by_category = {feed.category: feed.url for feed in self.feeds if feed.category}
            urls = []
            for category in chosen:
                if category in by_category:
                    urls.append(by_category[category])
                elif self.feed_template:
                    urls.append(self.feed_template.format(category=quote(category, safe="")))
                else:
                    known = ", ".join(sorted(by_category)) or "none"
                    raise ValueError(f"source {self.name!r} has no feed for category {category!r}; known: {known}")
        return [rebase(url, base_url) for url in urls]

    def news_sitemap_urls(self, base_url: str | None = None) -> list[str]:
        return [rebase(url, base_url) for url in self.news_sitemaps]

    def parser_versions(self) -> frozenset[str]:
        """The versions today's parsers of the source write (one per layout, and the generic parser's when
        it reads the source or stands in): an article stored under any other was parsed by an older parser."""
        versions: set[str] = set()
        if not self.is_generic:
            versions.update(layout.version for layout in self.module().LAYOUTS)
        if self.is_generic or self.generic_fallback:
            from wirestance.sources.generic import parser_version

            versions.add(parser_version())
        return frozenset(versions)

    def owns(self, url: str) -> bool:
        """Whether `url` is on one of the source's domains."""
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def article_id(self, url: str) -> str | None:
        """The agency's own id for an article URL, or None if the URL is not an article page.

        A URL on loopback (the offline replay, a local mirror) is read as the same path on the site.
        """
        try:
            url = self._on_site(url.strip())
        except ValueError:
            return None
        if self.article_url is not None:
            match = self.article_url.search(url)
            if match is None:
                return None
            if self.is_generic:
                named = [value for value in match.groupdict().values() if value]
                found = named[0] if named else urlsplit(url).path.strip("/")
                return found or None
        if self.is_generic:
            return None
        return self._module_article_id(url)

    def parse(self, html: bytes | str, url: str) -> Article:
        """The article of one page, by the source's parser; NotAnArticle (with the reason) otherwise."""
        # A page fetched from loopback (the offline replay, a mirror) is read as the site's own address;
        # the article keeps the address it was fetched from.
        site_url = self._on_site(url)
        article = self._parse_on_site(html, site_url)
        return article if site_url == url else replace(article, url=url)

    def _parse_on_site(self, html: bytes | str, url: str) -> Article:
        if self.is_generic:
            return _generic_parser()(html, url, source=self.name, timezone=self.zone)
        try:
            return self._dedicated_parse(html, url)
        except NotAnArticle as dedicated:
            if not self.generic_fallback:
                raise
            try:
                return _generic_parser()(html, url, source=self.name, timezone=self.zone)
            except NotAnArticle as generic:
                raise NotAnArticle(url, f"{dedicated.reason}; generic fallback: {generic.reason}") from None

    # --- the parser module ---------------------------------------------------------------------------

    def module(self) -> ModuleType:
        """The dedicated parser module (ImportError if it is not there)."""
        return importlib.import_module(f"wirestance.sources.{self.parser}")

    def _module_article_id(self, url: str) -> str | None:
        module = self.module()
        finder: Callable[[str], str | None] = getattr(module, "article_id", None) or module.article_id_from_url
        return finder(url)

    def _dedicated_parse(self, html: bytes | str, url: str) -> Article:
        return _dedicated_parser(self.parser, self.name, self.timezone)(html, url)

    def _on_site(self, url: str) -> str:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host in _LOOPBACK_HOSTS or host.startswith("127."):
            site = urlsplit(self.site_origin)
            return urlunsplit((site.scheme, site.netloc, parts.path, parts.query, ""))
        return url


def rebase(url: str, base_url: str | None) -> str:
    """`url` with its scheme and host replaced by those of `base_url` (unchanged when None)."""
    if not base_url:
        return url
    base = urlsplit(base_url)
    parts = urlsplit(url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))


@functools.cache
def _dedicated_parser(parser: str, name: str, timezone: str) -> Callable[[bytes | str, str], Article]:
    """The parse function of a dedicated module, resolved once (not an import attempt per page)."""
    module = importlib.import_module(f"wirestance.sources.{parser}")
    try:
        from wirestance.sources.kit import parse_page  # type: ignore[import-not-found]
    except ImportError:
        # Until the layout kit lands, a module parses through its own SOURCE object.
        parse: Callable[[bytes | str, str], Article] = module.SOURCE.parse
        return parse
    zone, layouts = ZoneInfo(timezone), module.LAYOUTS
    return lambda html, url: parse_page(html, url, source=name, timezone=zone, layouts=layouts)  # type: ignore[no-any-return]


def _generic_parser() -> Callable[..., Article]:
    from wirestance.sources.generic import parse_generic  # type: ignore[import-not-found]

    return parse_generic  # type: ignore[no-any-return]
