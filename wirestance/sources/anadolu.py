"""Anadolu Agency (aa.com.tr): feeds, article ids and one parser per page layout.

Two layouts are live at once: the server-rendered template the site used until spring 2026 (still what
archived captures of older articles show) and the Next.js template after it. The parser is chosen by
what the page's markup is, never by its date, so an old capture of a new article or a new capture of
an old one both parse right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from lxml import etree
from lxml.html import HtmlElement

from wirestance.articles import Article
from wirestance.parsing import element_text, first_meta, html_language, json_ld_names, normalize_text
from wirestance.sources.kit import Layout, Page, first_text, has_class, parse_iso, parse_page, parse_printed, unique

NAME = "anadolu"
ORIGIN = "https://www.aa.com.tr"
#: AA prints Istanbul wall-clock time, without an offset.
TIMEZONE = ZoneInfo("Europe/Istanbul")

# --- article ids -------------------------------------------------------------------------------

# /en/politics/some-slug/1655872, optionally with an AMP segment (/en/amp/politics/..., .../1655872/amp).
_ARTICLE_PATH = re.compile(
    r"^/(?P<lang>[a-z]{2})(?:/amp)?/(?P<section>[a-z0-9-]+)/(?P<slug>[^/]+)/(?P<id>\d+)(?:/amp)?/?$",
    re.IGNORECASE,
)
# The short links the site shares (http://v.aa.com.tr/1655872) carry the id alone.
_SHORT_LINK_PATH = re.compile(r"^/(?P<id>\d+)/?$")
_SHORT_LINK_HOST = "v.aa.com.tr"
# Sections whose /<section>/<slug>/<number> pages are not text articles: static pages (/p/), search,
# feeds, photo and video galleries, infographics, live blogs.
_NOT_ARTICLE_SECTIONS = frozenset({"p", "search", "rss", "pgc", "vgc", "pg", "vg", "info", "live", "latest"})
# The offline replay (`wirestance demo`) serves the same paths on loopback.
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _is_site_host(host: str) -> bool:
    return host == "aa.com.tr" or host.endswith(".aa.com.tr")


def article_id_from_url(url: str) -> str | None:
    """AA's numeric article id from an article URL, or None for any other URL (index, gallery, static)."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None
    if host == _SHORT_LINK_HOST:
        short = _SHORT_LINK_PATH.match(parts.path)
        return short.group("id") if short and int(short.group("id")) else None
    if not (_is_site_host(host) or host in _LOOPBACK_HOSTS or host.startswith("127.")):
        return None
    match = _ARTICLE_PATH.match(parts.path)
    if match is None or match.group("section").lower() in _NOT_ARTICLE_SECTIONS:
        return None
    return match.group("id") if int(match.group("id")) else None


# --- the layouts --------------------------------------------------------------------------------

# Boilerplate that can sit among the body's <p>s: the subscription notice AA appends to every story
# ("HAS" is its wire service) in each edition's words, and the disclaimer under opinion pieces.
_BOILERPLATE = re.compile(
    r"^(Anadolu Agency website contains only a portion of the news stories"
    r"|Anadolu Ajansı web sitesinde, AA Haber Akış Sistemi"
    r"|\*?\s*Opinions expressed in this article are the author[’']s own)",
    re.IGNORECASE,
)


class _AnadoluLayout(Layout):
    """Fields read the same way in both AA layouts."""

    boilerplate = _BOILERPLATE

    def article_id(self) -> str | None:
        return article_id_from_url(self.canonical_url()) or article_id_from_url(self.page.url)

    def language_from_url(self) -> str | None:
        match = _ARTICLE_PATH.match(urlsplit(self.canonical_url()).path)
        return match.group("lang").lower() if match else None


def _first_with_class(candidates: list[HtmlElement], name: str) -> HtmlElement | None:
    """The first element whose class attribute has `name` as a whole token."""
    for element in candidates:
        if name in (element.get("class") or "").split():
            return element
    return None


_SOCIAL_EMBED = "ancestor::blockquote[contains(@class, 'twitter') or contains(@class, 'instagram')]"


class AnadoluLegacyV1(_AnadoluLayout):
    """The server-rendered template (Bootstrap, Turkish class names) of aa.com.tr until spring 2026.

    Headline box div.detay-spot-category (category, h1, h4 lede, author and span.tarih dates), body
    div.detay-icerik (h6 dateline, then the p's), subscription notice in span.detay-foto-editor, tags
    and share buttons in div.detay-paylas. The page prints dates only, day first.
    """

    version = "anadolu/legacy-v1"
    requires = "a div.detay-icerik body"

    # One scan finds both anchors; plain contains() is cheap, the token test is done in Python.
    _anchors = etree.XPath("//div[contains(@class, 'detay-')]")
    # Relative to div.detay-spot-category.
    _title = etree.XPath("h1")
    _lede = etree.XPath("h4")
    _category = etree.XPath(f"span[{has_class('detay-news-category')}]")
    _dates = etree.XPath(f".//span[{has_class('tarih')}]")
    _byline = etree.XPath(f".//span[{has_class('tarih')}]/preceding-sibling::span[1]")
    # Relative to div.detay-icerik.
    _dateline = etree.XPath("h6")
    _paragraphs = etree.XPath(
        f".//p[not(ancestor::span[{has_class('detay-foto-editor')}])"
        f" and not(ancestor::div[{has_class('detay-paylas')}]) and not({_SOCIAL_EMBED})]"
    )
    _tags = etree.XPath(f".//div[{has_class('detay-paylas')}]//a[contains(@href, 'tag=1')]")
    _date = re.compile(r"\b(\d{1,2}\.\d{1,2}\.\d{4})\b")
    _date_format = "%d.%m.%Y"  # 05.04.2025 is the 5th of April

    def __init__(self, page: Page, headline_box: HtmlElement | None, body: HtmlElement) -> None:
        super().__init__(page)
        self.headline_box = headline_box
        self.body = body

    @classmethod
    def match(cls, page: Page) -> AnadoluLegacyV1 | None:
        candidates = cls._anchors(page.root)
        body = _first_with_class(candidates, "detay-icerik")
        if body is None:
            return None
        return cls(page, _first_with_class(candidates, "detay-spot-category"), body)

    def _in_box(self, xpath: etree.XPath) -> list[HtmlElement]:
        return xpath(self.headline_box) if self.headline_box is not None else []

    def title(self) -> str | None:
        return first_text(self._in_box(self._title)) or first_meta(self.page.meta, "og:title")

    def lede(self) -> str | None:
        return first_text(self._in_box(self._lede)) or first_meta(self.page.meta, "og:description")

    def authors(self) -> list[str]:
        # "Elena Teslova  |" or "Name One, Name Two |" in the span before the dates.
        byline = first_text(self._in_box(self._byline)) or ""
        return unique([normalize_text(name) for name in byline.rstrip("| ").split(",")])

    @cached_property
    def _printed_dates(self) -> list[datetime]:
        # "26.11.2019 - Update : 27.11.2019" ("Güncelleme" in Turkish): published first, then updated.
        text = first_text(self._in_box(self._dates)) or ""
        return [parse_printed(day, (self._date_format,), tz=TIMEZONE) for day in self._date.findall(text)]

    def _with_time(self, day: datetime, *sources: str | None) -> datetime:
        """The printed day, with the time of day from meta/JSON-LD when one of them is that same day."""
        for raw in sources:
            if not raw:
                continue
            try:
                stamp = parse_iso(raw, tz=TIMEZONE).astimezone(TIMEZONE)
            except ValueError:
                continue
            if stamp.date() == day.date():
                return stamp
        return day

    def published(self) -> datetime | None:
        if not self._printed_dates:
            return None
        ld = self.page.news_article() or {}
        return self._with_time(
            self._printed_dates[0], first_meta(self.page.meta, "article:published_time"), ld.get("datePublished")
        )

    def updated(self) -> datetime | None:
        if len(self._printed_dates) < 2:
            return None
        ld = self.page.news_article() or {}
        return self._with_time(
            self._printed_dates[1], first_meta(self.page.meta, "article:modified_time"), ld.get("dateModified")
        )

    def dateline(self) -> str | None:
        return first_text(self._dateline(self.body))

    def category(self) -> str | None:
        return first_text(self._in_box(self._category))

    def tags(self) -> list[str]:
        return unique([element_text(a) for a in self._tags(self.body)])

    def language(self) -> str:
        declared = first_meta(self.page.meta, "content-language")
        return (declared or self.language_from_url() or html_language(self.page.root) or "en").lower()

    def body_paragraphs(self) -> list[HtmlElement]:
        return self._paragraphs(self.body)


class AnadoluNextV2(_AnadoluLayout):
    """The Next.js template of aa.com.tr from spring 2026.

    The page streams in chunks: the article section arrives inside a `<div hidden id="S:..">` wrapper
    that a script moves into place, so nothing here may skip hidden elements. Metadata is in a
    NewsArticle JSON-LD block (local time without offset); the body is div.prose; tags, the share
    block and the subscription notice come in later chunks outside it.
    """

    version = "anadolu/nextjs-v2"
    requires = "Next.js markers or NewsArticle JSON-LD, and a div.prose body"

    # Next.js puts its chunk scripts and styles in <head>: a cheap test before any body scan.
    _next_markers = etree.XPath(
        "boolean(/html/head/script[contains(@src, '/_next/')] | /html/head/link[contains(@href, '/_next/')]"
        " | /html/head/meta[@name='next-size-adjust'])"
    )
    _anchors = etree.XPath("//div[contains(@class, 'prose')]")
    # Relative to div.prose.
    _section = etree.XPath("ancestor::section[1]")
    _dateline = etree.XPath("preceding-sibling::span[1]")
    _paragraphs = etree.XPath(f".//p[not(ancestor::figure) and not({_SOCIAL_EMBED})]")
    # Relative to the article's section.
    _title = etree.XPath(".//h1")
    _lede = etree.XPath(".//h1/following-sibling::span[1]")
    _category = etree.XPath(".//a/span[contains(@class, 'categoryTag')]")
    _tag_links = etree.XPath("//section//a[contains(@href, 'tag=1')]")

    def __init__(self, page: Page, prose: HtmlElement) -> None:
        super().__init__(page)
        self.prose = prose
        found = self._section(prose)
        self.section = found[0] if found else page.root

    @classmethod
    def match(cls, page: Page) -> AnadoluNextV2 | None:
        if not (cls._next_markers(page.root) or page.news_article() is not None):
            return None
        prose = _first_with_class(cls._anchors(page.root), "prose")
        return cls(page, prose) if prose is not None else None

    def _ld(self) -> dict[str, Any]:
        return self.page.news_article() or {}

    def _ld_text(self, key: str) -> str | None:
        value = self._ld().get(key)
        return normalize_text(value) if isinstance(value, str) and value.strip() else None

    def _ld_time(self, key: str, meta_key: str) -> datetime | None:
        for raw in (self._ld_text(key), first_meta(self.page.meta, meta_key)):
            if raw:
                try:
                    return parse_iso(raw, tz=TIMEZONE)
                except ValueError:
                    continue
        return None

    def title(self) -> str | None:
        return (
            first_text(self._title(self.section)) or self._ld_text("headline") or first_meta(self.page.meta, "og:title")
        )

    def lede(self) -> str | None:
        return (
            first_text(self._lede(self.section))
            or self._ld_text("description")
            or first_meta(self.page.meta, "og:description")
        )

    def authors(self) -> list[str]:
        return json_ld_names(self._ld().get("author"))

    def published(self) -> datetime | None:
        # JSON-LD first: the article:published_time meta carries the time of the last re-publish.
        return self._ld_time("datePublished", "article:published_time")

    def updated(self) -> datetime | None:
        return self._ld_time("dateModified", "article:modified_time")

    def dateline(self) -> str | None:
        printed = first_text(self._dateline(self.prose))
        if printed:
            return printed
        location = json_ld_names(self._ld().get("contentLocation"))
        return location[0] if location else None

    def category(self) -> str | None:
        return (
            self._ld_text("articleSection")
            or first_text(self._category(self.section))
            or first_meta(self.page.meta, "article:section")
        )

    def tags(self) -> list[str]:
        from_meta = self.page.meta.get("article:tag", [])
        if from_meta:
            return unique([normalize_text(tag) for tag in from_meta])
        return unique([element_text(a) for a in self._tag_links(self.page.root)])

    def language(self) -> str:
        declared = self._ld_text("inLanguage") or html_language(self.page.root) or self.language_from_url()
        return (declared or "en").split("-")[0].lower()

    def body_paragraphs(self) -> list[HtmlElement]:
        return self._paragraphs(self.prose)


# Newest layout first: it is what a fresh fetch returns.
LAYOUTS: tuple[type[Layout], ...] = (AnadoluNextV2, AnadoluLegacyV1)


def article_id(url: str) -> str | None:
    """AA's numeric article id from an article URL, or None for any other URL."""
    return article_id_from_url(url)


# --- the source --------------------------------------------------------------------------------


class AnadoluSource:
    """Anadolu Agency, English edition."""

    name: str = NAME
    allowed_domains: tuple[str, ...] = ("aa.com.tr",)
    default_categories: tuple[str, ...] = ("politics", "world", "turkiye")

    def feed_urls(self, categories: Sequence[str], base_url: str | None = None) -> list[str]:
        origin = (base_url or ORIGIN).rstrip("/")
        chosen = list(categories) or list(self.default_categories)
        return [f"{origin}/en/rss/default?cat={quote(category.strip(), safe='')}" for category in chosen]

    def article_id(self, url: str) -> str | None:
        return article_id_from_url(url)

    def parse(self, html: bytes | str, url: str) -> Article:
        return parse(html, url)


def parse(html: bytes | str, url: str) -> Article:
    """One AA page with the layout its markup is; NotAnArticle naming the failed checks otherwise."""
    return parse_page(html, url, source=NAME, timezone=TIMEZONE, layouts=LAYOUTS)


SOURCE = AnadoluSource()
