"""Reuters (reuters.com): ids and page layouts.

Three templates: the Arc site (from 2021; paragraphs carry data-testid="paragraph-N"), the React site
of 2020-2021 (div.ArticleBodyWrapper) and the site of 2019 and before (div.StandardArticleBody_body).
Reuters stamps its pages in UTC and prints GMT, so the source's zone is UTC. The first paragraph
carries the dateline ("KATHMANDU, April 25 (Reuters) -"): it stays in the text, the place goes to
`dateline`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lxml import etree
from lxml.html import HtmlElement

from wirestance.articles import Article
from wirestance.sources.kit import (
    Layout,
    Page,
    at_zone,
    drop_hidden,
    first_text,
    has_class,
    parse_iso,
    parse_page,
    split_byline,
    split_tags,
    unique,
    url_on_domains,
)

NAME = "reuters"
TIMEZONE = UTC
ALLOWED_DOMAINS = ("reuters.com",)

# Arc URLs: /<section>/<subsection...>/<slug>-2023-12-24/ ; older: /article/<slug>-idUSKBN1XT00W
_ARC_PATH = re.compile(r"^/(?:[a-z0-9-]+/)+(?P<id>[a-z0-9-]+-\d{4}-\d{2}-\d{2})/?$", re.IGNORECASE)
_LEGACY_PATH = re.compile(r"^/article/(?:[^/]+/)?[^/]*id(?P<id>[A-Z]{2,5}[A-Z0-9]{6,})/?$")
_NOT_ARTICLE_SECTIONS = frozenset({"graphics", "pictures", "video", "live-events", "markets/quote"})


def article_id(url: str) -> str | None:
    """Reuters' story id: the dated slug of an Arc URL, or the "USKBN..." id of an older one; else None."""
    parts = url_on_domains(url, ALLOWED_DOMAINS)
    if parts is None:
        return None
    legacy = _LEGACY_PATH.match(parts.path)
    if legacy:
        return legacy.group("id")
    first_segment = parts.path.strip("/").split("/")[0].lower()
    arc = _ARC_PATH.match(parts.path)
    return arc.group("id").lower() if arc and first_segment not in _NOT_ARTICLE_SECTIONS else None


# "KATHMANDU, April 25 (Reuters) - ..." or "BEIRUT/THE HAGUE, March 7 (Reuters) -"
_DATELINE = re.compile(r"^(?P<place>[^()]{2,80}?)(?:,\s+[A-Z][a-z]{2,8}\.?\s+\d{1,2})?\s+\(Reuters\)\s*[-—–]")


class _ReutersLayout(Layout):
    def article_id(self) -> str | None:
        return article_id(self.canonical_url()) or article_id(self.page.url)

    def dateline(self) -> str | None:
        paragraphs = self.text()
        match = _DATELINE.match(paragraphs[0]) if paragraphs else None
        return match.group("place").strip() if match else None

    def authors(self) -> list[str]:
        byline = self.page.first_meta("article:author", "og:article:author", "author", "sailthru.author")
        names = split_byline(byline)
        return names if names != ["Reuters"] else []

    def _meta_stamp(self, *keys: str) -> datetime | None:
        for key in keys:
            raw = self.page.first_meta(key)
            if raw:
                try:
                    return at_zone(parse_iso(raw, tz=UTC), self.page.timezone)
                except ValueError:
                    continue
        return None

    def published(self) -> datetime | None:
        return self._meta_stamp("article:published_time", "og:article:published_time") or super().published()

    def updated(self) -> datetime | None:
        return self._meta_stamp("article:modified_time", "og:article:modified_time") or super().updated()

    def category(self) -> str | None:
        return self.page.first_meta("article:section", "og:article:section") or super().category()

    def tags(self) -> list[str]:
        return split_tags(self.page.meta.get("news_keywords", []), ";")


class ReutersArcV3(_ReutersLayout):
    """The Arc site (2021-): h1[data-testid=Heading], paragraphs [data-testid=paragraph-N] (their
    screen-reader-only ", opens new tab" link suffixes are not text), metadata in meta tags."""

    version = "reuters/arc-v3"
    requires = "paragraphs marked data-testid=paragraph-N"

    _paragraphs = etree.XPath("//*[starts-with(@data-testid, 'paragraph-')]")
    _title = etree.XPath("//h1[@data-testid='Heading']")

    def __init__(self, page: Page, paragraphs: list[HtmlElement]) -> None:
        super().__init__(page)
        self._found = paragraphs

    @classmethod
    def match(cls, page: Page) -> ReutersArcV3 | None:
        paragraphs = cls._paragraphs(page.root)
        return cls(page, paragraphs) if paragraphs else None

    def title(self) -> str | None:
        return first_text(self._title(self.page.root)) or super().title()

    def tags(self) -> list[str]:
        # The article:tag metas here are internal codes ("RULES:BS5", "MTPIX"); the readable topics
        # are the section and the channels the story is filed under.
        channels = split_tags(self.page.meta.get("dcsext.channellist", []), ";")
        return unique([self.category() or "", *channels])

    def body_paragraphs(self) -> list[HtmlElement]:
        return [drop_hidden(p) for p in self._found]


class ReutersReactV2(_ReutersLayout):
    """The React site (2020-2021): h1 in ArticleHeader, the story's <p>s in div.ArticleBodyWrapper."""

    version = "reuters/react-v2"
    requires = "a div.ArticleBodyWrapper body"

    _bodies = etree.XPath(f"//div[{has_class('ArticleBodyWrapper')}]")
    _paragraphs = etree.XPath("p[contains(@class, 'Paragraph-paragraph')]")
    _title = etree.XPath("//h1[contains(@class, 'Headline-headline')]")

    def __init__(self, page: Page, body: HtmlElement) -> None:
        super().__init__(page)
        self.body = body

    @classmethod
    def match(cls, page: Page) -> ReutersReactV2 | None:
        bodies = cls._bodies(page.root)
        return cls(page, bodies[0]) if bodies else None

    def title(self) -> str | None:
        return first_text(self._title(self.page.root)) or super().title()

    def body_paragraphs(self) -> list[HtmlElement]:
        return [drop_hidden(p) for p in self._paragraphs(self.body)]


class ReutersStandardV1(ReutersReactV2):
    """The site of 2019 and before: h1.ArticleHeader_headline, div.StandardArticleBody_body <p>s; read as the
    React site is, with its own selectors."""

    version = "reuters/standard-v1"
    requires = "a div.StandardArticleBody_body body"

    _bodies = etree.XPath(f"//div[{has_class('StandardArticleBody_body')}]")
    _paragraphs = etree.XPath("p")
    _title = etree.XPath(f"//h1[{has_class('ArticleHeader_headline')}]")


LAYOUTS: tuple[type[Layout], ...] = (ReutersArcV3, ReutersReactV2, ReutersStandardV1)


def parse(html: bytes | str, url: str) -> Article:
    """One Reuters page with the layout its markup is; NotAnArticle naming the failed checks otherwise."""
    return parse_page(html, url, source=NAME, timezone=TIMEZONE, layouts=LAYOUTS)
