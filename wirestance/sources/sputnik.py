"""Sputnik International (sputniknews.com, sputnikglobe.com from 2023): ids and page layouts.

The template of 2019-2022: div[itemprop=articleBody] with <p>s and quotation blocks
(blockquote.marker-quote1, part of the text), a standfirst in div.b-article__lead and the opinion
disclaimer (p.b-disclaimer) closing columns. The page declares og:type "website" even for articles,
so the layout is recognised by its article body, not by Open Graph. Sputnik is in Moscow.
"""

from __future__ import annotations

import re
from datetime import datetime
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
    has_class,
    parse_page,
    split_byline,
    split_tags,
    url_on_domains,
    with_class,
)

NAME = "sputnik"
TIMEZONE = ZoneInfo("Europe/Moscow")
ALLOWED_DOMAINS = ("sputniknews.com", "sputnikglobe.com")

# /columnists/201911181077343476-royal-self-indicting-arrogance/ (date and id run together), or
# /20231222/some-slug-1115742130.html on sputnikglobe.com.
_OLD_PATH = re.compile(r"^/[a-z0-9_-]+/(?P<id>\d{8}\d{6,12})-[^/]*/?$", re.IGNORECASE)
_NEW_PATH = re.compile(r"^/\d{8}/[^/]*?-(?P<id>\d{6,12})\.html$", re.IGNORECASE)


def article_id(url: str) -> str | None:
    """Sputnik's numeric story id from an article URL, else None."""
    parts = url_on_domains(url, ALLOWED_DOMAINS)
    if parts is None:
        return None
    match = _OLD_PATH.match(parts.path) or _NEW_PATH.match(parts.path)
    return match.group("id") if match else None


# "Finian Cunningham. Sputnik International" in the author meta: the outlet is not an author.
_OUTLET_SUFFIX = re.compile(r"[.,]?\s*Sputnik(?: International)?\s*$", re.IGNORECASE)
_BOILERPLATE = re.compile(r"^The views and opinions expressed in the (?:article|piece)", re.IGNORECASE)


class SputnikArticleBodyV1(Layout):
    """div[itemprop=articleBody] (p and blockquote children), div.b-article__lead standfirst,
    the section link and the byline in div.b-article__refs, meta pubdate in UTC."""

    version = "sputnik/articlebody-v1"
    requires = "a div[itemprop=articleBody] body"
    boilerplate = _BOILERPLATE

    # One scan finds the body and the header blocks (b-article__lead, __refs, __refs-author).
    _anchors = etree.XPath("//div[@itemprop='articleBody' or contains(@class, 'b-article__')] | //h1")
    _blocks = etree.XPath(f"p[not({has_class('b-disclaimer')})] | blockquote")
    _rubric = etree.XPath(".//a[contains(@class, 'b-article__refs-rubric')]")

    def __init__(self, page: Page, body: HtmlElement) -> None:
        super().__init__(page)
        self.body = body
        self.anchors = page.find(self._anchors)

    @classmethod
    def match(cls, page: Page) -> SputnikArticleBodyV1 | None:
        bodies = [div for div in page.find(cls._anchors) if div.get("itemprop") == "articleBody"]
        return cls(page, bodies[0]) if bodies else None

    def article_id(self) -> str | None:
        return article_id(self.canonical_url()) or article_id(self.page.url)

    def title(self) -> str | None:
        return first_text(e for e in self.anchors if e.tag == "h1") or super().title()

    def lede(self) -> str | None:
        lead = first_with_class(self.anchors, "b-article__lead")
        return (element_text(lead) if lead is not None else None) or self.page.first_meta("og:description")

    def authors(self) -> list[str]:
        printed = split_byline(first_text(with_class(self.anchors, "b-article__refs-author")))
        if printed:
            return printed
        return split_byline(_OUTLET_SUFFIX.sub("", self.page.first_meta("author", "analytics:author") or ""))

    def published(self) -> datetime | None:
        stamp = self._stamp("datePublished", "pubdate", "datecreated", "article:published_time")
        return at_zone(stamp, self.page.timezone)

    def updated(self) -> datetime | None:
        return at_zone(self._stamp("dateModified", "datemodified", "article:modified_time"), self.page.timezone)

    def category(self) -> str | None:
        refs = [div for div in self.anchors if "b-article__refs" in (div.get("class") or "")]
        return first_text(a for div in refs for a in self._rubric(div)) or super().category()

    def tags(self) -> list[str]:
        return split_tags(self.page.meta.get("article:tag", []) or self.page.meta.get("keywords", []))

    def body_paragraphs(self) -> list[HtmlElement]:
        return [drop_hidden(block) for block in self._blocks(self.body)]


LAYOUTS: tuple[type[Layout], ...] = (SputnikArticleBodyV1,)


def parse(html: bytes | str, url: str) -> Article:
    """One Sputnik page with the layout its markup is; NotAnArticle naming the failed checks otherwise."""
    return parse_page(html, url, source=NAME, timezone=TIMEZONE, layouts=LAYOUTS)
