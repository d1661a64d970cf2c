"""RT (rt.com): ids and page layouts.

The template of 2017-: h1.article__heading, div.article__summary standfirst, div.article__text body
whose <p>s are the text (the "read more" cards between them are <a> elements), a closing share
prompt ("Like this story? Share it with a friend!") that is furniture, printed times in GMT
("20 Nov, 2019 05:47"). RT is in Moscow.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from lxml import etree
from lxml.html import HtmlElement

from wirestance.articles import Article
from wirestance.sources.kit import (
    Layout,
    Page,
    at_zone,
    drop_hidden,
    element_text,
    first_text,
    first_with_class,
    parse_iso,
    parse_page,
    parse_printed,
    split_byline,
    unique,
    url_on_domains,
    with_class,
)

NAME = "rt"
TIMEZONE = ZoneInfo("Europe/Moscow")
ALLOWED_DOMAINS = ("rt.com",)

# /news/473849-3-morales-supporters-killed-bolivia/ (also /russia/, /business/, /op-ed/ ...)
_ARTICLE_PATH = re.compile(r"^/[a-z-]+/(?P<id>\d{4,9})-[^/]+/?$", re.IGNORECASE)


def article_id(url: str) -> str | None:
    """RT's numeric story id from an article URL, else None."""
    parts = url_on_domains(url, ALLOWED_DOMAINS)
    if parts is None:
        return None
    match = _ARTICLE_PATH.match(parts.path)
    return match.group("id") if match else None


_BOILERPLATE = re.compile(
    r"^(?:Like this story\? Share it with a friend!?|If you like this story, share it with a friend!?"
    r"|READ MORE:|Subscribe to RT newsletter|Think your friends would be interested\?)",
    re.IGNORECASE,
)


class RTArticleTextV1(Layout):
    """h1.article__heading, div.article__summary, div.article__text <p>s, span.date_article-header
    ("20 Nov, 2019 05:47", GMT), the breadcrumbs' last link as section, trend links as tags."""

    version = "rt/article-text-v1"
    requires = "a div.article__text body"
    boilerplate = _BOILERPLATE

    # One scan finds the body, summary, date, author, breadcrumbs and trend boxes; h1 is a cheap scan.
    _anchors = etree.XPath(
        "//div[contains(@class, 'article__') or contains(@class, 'breadcrumbs') or contains(@class, 'tags-trends')]"
        " | //h1"
    )
    _blocks = etree.XPath("p | blockquote[not(contains(@class, 'twitter') or contains(@class, 'instagram'))]")
    _date = etree.XPath(".//span[contains(@class, 'date')]")
    _links = etree.XPath(".//a")
    _printed_formats = ("%d %b, %Y %H:%M", "%d %B, %Y %H:%M")

    def __init__(self, page: Page, body: HtmlElement) -> None:
        super().__init__(page)
        self.body = body
        self.anchors = page.find(self._anchors)

    @classmethod
    def match(cls, page: Page) -> RTArticleTextV1 | None:
        body = first_with_class(page.find(cls._anchors), "article__text", "div")
        return cls(page, body) if body is not None else None

    def _in(self, name: str, xpath: etree.XPath) -> list[HtmlElement]:
        return [found for box in with_class(self.anchors, name, "div") for found in xpath(box)]

    def article_id(self) -> str | None:
        return article_id(self.canonical_url()) or article_id(self.page.url)

    def title(self) -> str | None:
        headings = [e for e in self.anchors if e.tag == "h1"]
        return first_text(with_class(headings, "article__heading") or headings) or super().title()

    def lede(self) -> str | None:
        return first_text(with_class(self.anchors, "article__summary")) or self.page.first_meta("og:description")

    def authors(self) -> list[str]:
        links = self._in("article__author", self._links)
        return unique(name for a in links for name in split_byline(element_text(a)))

    def published(self) -> datetime | None:
        for raw in (self.page.first_meta("article:published_time", "published_time_telegram"),):
            if raw:
                try:
                    return at_zone(parse_iso(raw, tz=UTC), self.page.timezone)
                except ValueError:
                    pass
        printed = first_text(self._in("article__date", self._date))
        if printed:
            try:
                # RT prints GMT.
                return at_zone(parse_printed(printed, self._printed_formats, tz=UTC), self.page.timezone)
            except ValueError:
                pass
        return super().published()

    def updated(self) -> datetime | None:
        return super().updated()

    def category(self) -> str | None:
        crumbs = [element_text(a) for a in self._in("breadcrumbs", self._links)]
        crumbs = [crumb for crumb in crumbs if crumb and crumb.lower() != "home"]
        return crumbs[-1] if crumbs else super().category()

    def tags(self) -> list[str]:
        return unique(element_text(a) for a in self._in("tags-trends", self._links))

    def body_paragraphs(self) -> list[HtmlElement]:
        return [drop_hidden(block) for block in self._blocks(self.body)]


LAYOUTS: tuple[type[Layout], ...] = (RTArticleTextV1,)


def parse(html: bytes | str, url: str) -> Article:
    """One RT page with the layout its markup is; NotAnArticle naming the failed checks otherwise."""
    return parse_page(html, url, source=NAME, timezone=TIMEZONE, layouts=LAYOUTS)
