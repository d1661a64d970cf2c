"""Al Jazeera English (aljazeera.com): ids and page layouts.

Two templates: the React site (from 2020; body div.wysiwyg, standfirst p.article__subhead, JSON-LD
with UTC stamps) and the site of 2019 and before (body div.article-p-wrapper, standfirst
p.article-heading-des, JSON-LD stamps printed as "19 Nov 2019 07:09 GMT"). "Read more" boxes sit
inside both bodies (div.more-on; a heading and link lists in the old one) and are left out.
Al Jazeera is in Doha: its source zone is Asia/Qatar.
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
    drop_boilerplate,
    drop_hidden,
    element_text,
    first_text,
    first_with_class,
    list_item_text,
    parse_page,
    parse_printed,
    split_byline,
    split_tags,
    url_on_domains,
    with_class,
)

NAME = "aljazeera"
TIMEZONE = ZoneInfo("Asia/Qatar")
ALLOWED_DOMAINS = ("aljazeera.com",)

# /news/2023/12/22/<slug> (and /news/longform/2023/10/9/<slug>, /opinions/..., /features/...)
_DATED_PATH = re.compile(
    r"^/[a-z-]+/(?:[a-z-]+/)?(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<slug>[a-z0-9-]+)/?$", re.IGNORECASE
)
# The old site: /news/2019/11/<slug>-191120070028895.html (the trailing number is the story id).
_OLD_PATH = re.compile(r"^/(?:[a-z0-9-]+/)+[a-z0-9-]*?-?(?P<id>\d{12,18})\.html$", re.IGNORECASE)
_NOT_ARTICLE_SECTIONS = frozenset({"video", "gallery", "program", "where", "tag", "author", "search"})


def article_id(url: str) -> str | None:
    """Al Jazeera's story id: the number of an old URL, or "YYYY-MM-DD-slug" of a dated one; else None."""
    parts = url_on_domains(url, ALLOWED_DOMAINS)
    if parts is None:
        return None
    if parts.path.strip("/").split("/")[0].lower() in _NOT_ARTICLE_SECTIONS:
        return None
    old = _OLD_PATH.match(parts.path)
    if old:
        return old.group("id")
    dated = _DATED_PATH.match(parts.path)
    if dated is None:
        return None
    year, month, day = (int(dated.group(key)) for key in ("y", "m", "d"))
    return f"{year:04d}-{month:02d}-{day:02d}-{dated.group('slug').lower()}"


#: Bylines that name the outlet or its desk, not a person.
_OUTLET_BYLINES = frozenset({"al jazeera", "al jazeera staff", "al jazeera and news agencies", "news agencies"})


def _people(names: list[str]) -> list[str]:
    return [name for name in names if name.lower() not in _OUTLET_BYLINES]


# One scan for both layouts: bodies, bylines, headline boxes, the longform hero; <header> and <h1> are
# cheap name-only scans. Standfirsts are looked up inside the headline boxes.
_ANCHORS = etree.XPath(
    "//div[contains(@class, 'wysiwyg') or contains(@class, 'article-p-wrapper') or contains(@class, 'author-name')"
    " or contains(@class, 'longform-hero__content') or contains(@class, 'article-heading')] | //header | //h1"
)
_PARAGRAPHS = etree.XPath(".//p")


class _AlJazeeraLayout(Layout):
    def __init__(self, page: Page, body: HtmlElement) -> None:
        super().__init__(page)
        self.body = body
        self.anchors = page.find(_ANCHORS)

    def article_id(self) -> str | None:
        return article_id(self.canonical_url()) or article_id(self.page.url)

    def title(self) -> str | None:
        return first_text(e for e in self.anchors if e.tag == "h1") or super().title()

    def tags(self) -> list[str]:
        return split_tags(self.page.meta.get("tags", []) or self.page.meta.get("news_keywords", []))


class AlJazeeraReactV2(_AlJazeeraLayout):
    """The React site (2020-): h1, p.article__subhead, div.wysiwyg with <p>, <h2>/<h3> subheadings and
    content lists (<ul> of figures in trackers) as direct children; "more on" boxes are their own divs."""

    version = "aljazeera/react-v2"
    requires = "a div.wysiwyg body"

    # Paragraphs and the items of content lists (nested lists are items of their own).
    _blocks = etree.XPath("p | ul//li | ol//li")
    _hero_lede = etree.XPath("p")

    @classmethod
    def match(cls, page: Page) -> AlJazeeraReactV2 | None:
        body = first_with_class(page.find(_ANCHORS), "wysiwyg", "div")
        return cls(page, body) if body is not None else None

    def lede(self) -> str | None:
        headers = [e for e in self.anchors if e.tag == "header"]
        printed = with_class((p for header in headers for p in _PARAGRAPHS(header)), "article__subhead") + [
            p for hero in with_class(self.anchors, "longform-hero__content", "div") for p in self._hero_lede(hero)
        ]
        return first_text(printed) or self.page.first_meta("description")

    def authors(self) -> list[str]:
        printed = split_byline(first_text(with_class(self.anchors, "article-author-name", "div")))
        return _people(printed or split_byline(self.page.first_meta("pageauthors", "displayauthors", "author")))

    def category(self) -> str | None:
        return self.page.first_meta("primarytag") or super().category()

    def body_paragraphs(self) -> list[HtmlElement]:
        return [drop_hidden(p) for p in self._blocks(self.body)]

    def paragraphs(self) -> list[str]:
        texts = (list_item_text(b) if b.tag == "li" else element_text(b) for b in self.body_paragraphs())
        return drop_boilerplate(texts, self.boilerplate)


class AlJazeeraClassicV1(_AlJazeeraLayout):
    """The site of 2019 and before: h1.post-title, p.article-heading-des, div.article-p-wrapper (its
    "Read more" heading and link lists are not text), JSON-LD stamps as "19 Nov 2019 07:09 GMT"."""

    version = "aljazeera/classic-v1"
    requires = "a div.article-p-wrapper body"

    _blocks = etree.XPath("p")
    _links = etree.XPath(".//a")
    _printed_formats = ("%d %b %Y %H:%M GMT", "%d %B %Y %H:%M GMT")

    @classmethod
    def match(cls, page: Page) -> AlJazeeraClassicV1 | None:
        body = first_with_class(page.find(_ANCHORS), "article-p-wrapper", "div")
        return cls(page, body) if body is not None else None

    def lede(self) -> str | None:
        boxes = with_class(self.anchors, "article-heading", "div")
        printed = first_text(with_class((p for box in boxes for p in _PARAGRAPHS(box)), "article-heading-des"))
        return printed or self.page.first_meta("description")

    def authors(self) -> list[str]:
        boxes = with_class(self.anchors, "article-heading-author-name", "div")
        byline = first_text(a for box in boxes for a in self._links(box))
        return _people(split_byline(byline) or super().authors())

    def _ld_stamp(self, key: str) -> datetime | None:
        raw = self.page.ld_text(key)
        if not raw:
            return None
        try:
            return at_zone(parse_printed(raw, self._printed_formats, tz=UTC), self.page.timezone)
        except ValueError:
            return None

    def published(self) -> datetime | None:
        return self._ld_stamp("datePublished") or super().published()

    def updated(self) -> datetime | None:
        return self._ld_stamp("dateModified")

    def body_paragraphs(self) -> list[HtmlElement]:
        return [drop_hidden(p) for p in self._blocks(self.body)]


LAYOUTS: tuple[type[Layout], ...] = (AlJazeeraReactV2, AlJazeeraClassicV1)


def parse(html: bytes | str, url: str) -> Article:
    """One Al Jazeera page with the layout its markup is; NotAnArticle naming the failed checks otherwise."""
    return parse_page(html, url, source=NAME, timezone=TIMEZONE, layouts=LAYOUTS)
