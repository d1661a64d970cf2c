"""The Associated Press (apnews.com, and the older hosted.ap.org partner pages): ids and page layouts.

Three templates are live at once in what a crawl or an archive returns: apnews.com's current
Brightspot template (div.RichTextStoryBody), its React template of 2020-2023 (div.Article) and the
hosted.ap.org pages AP served to partner newspapers (a <block> inside div.ap-story).

AP closes a story with "___" and then credits ("Jane Doe reported from Kyiv."), coverage links and
newsletter prompts; a "___" followed by a subheading starts a new section instead. The trailer is
furniture, not text, so it is cut.
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
    element_text,
    first_text,
    first_with_class,
    has_class,
    parse_iso,
    parse_page,
    split_byline,
    split_tags,
    unique,
    url_on_domains,
    with_class,
)

NAME = "ap"
#: AP prints US Eastern time ("5:52 AM EST").
TIMEZONE = ZoneInfo("America/New_York")
ALLOWED_DOMAINS = ("apnews.com", "hosted.ap.org")

_HEX_ID = r"[0-9a-f]{32}"
# apnews.com/article/<slug>-<32 hex> (and the bare apnews.com/<32 hex> of older links).
_APNEWS_PATH = re.compile(rf"^/(?:article/(?:[^/]*-)?)?(?P<id>{_HEX_ID})/?$", re.IGNORECASE)
# hosted.ap.org/<newspaper>/article/<32 hex>/<slug>
_HOSTED_PATH = re.compile(rf"^/[^/]+/article/(?P<id>{_HEX_ID})(?:/[^/]*)?/?$", re.IGNORECASE)


def article_id(url: str) -> str | None:
    """AP's 32-hex story id from an apnews.com or hosted.ap.org article URL, else None."""
    parts = url_on_domains(url, ALLOWED_DOMAINS)
    if parts is None:
        return None
    host = (parts.hostname or "").lower()
    pattern = _HOSTED_PATH if host == "hosted.ap.org" or host.endswith(".hosted.ap.org") else _APNEWS_PATH
    match = pattern.match(parts.path)
    return match.group("id").lower() if match else None


# "TALLAHASSEE, Fla. (AP) — Florida State sued ..." -> "TALLAHASSEE, Fla."
_DATELINE = re.compile(r"^(?P<place>[^()]{2,80}?)\s*\(AP\)\s*[—–-]")
_SEPARATOR = re.compile(r"^_{2,}$")
#: At most this many paragraphs after a final "___" are a trailer (credits, links, prompts).
_TRAILER_MAX = 3


def _without_trailer(blocks: list[HtmlElement]) -> list[HtmlElement]:
    """The body's paragraphs, with the closing "___" trailers cut and separators and subheadings dropped.

    `blocks` are the body's paragraphs and headings in page order.
    """
    separators = [index for index, block in enumerate(blocks) if _SEPARATOR.match(element_text(block))]
    end = len(blocks)
    for last in reversed(separators):
        tail = blocks[last + 1 : end]
        if any(block.tag != "p" for block in tail) or len(tail) > _TRAILER_MAX:
            break
        end = last
    dropped = set(separators)
    return [block for index, block in enumerate(blocks[:end]) if block.tag == "p" and index not in dropped]


# One scan for every AP template: bodies, headline and byline boxes, topic lists; <h1>, <h2> and
# <block> are cheap name-only scans.
_ANCHORS = etree.XPath(
    "//div[contains(@class, 'RichTextStoryBody') or contains(@class, 'Page-authors') or @data-key = 'article'"
    " or contains(@class, 'CardHeadline') or contains(@class, 'ap-story') or contains(@class, 'byline-original')]"
    " | //h1 | //h2 | //block"
)


class _APLayout(Layout):
    """Fields read the same way in every AP template."""

    _blocks = etree.XPath("p | h2 | h3")

    def __init__(self, page: Page, body: HtmlElement) -> None:
        super().__init__(page)
        self.body = body
        self.anchors = page.find(_ANCHORS)

    def body_paragraphs(self) -> list[HtmlElement]:
        return _without_trailer(self._blocks(self.body))

    def article_id(self) -> str | None:
        return article_id(self.canonical_url()) or article_id(self.page.url)

    def dateline(self) -> str | None:
        paragraphs = self.text()
        match = _DATELINE.match(paragraphs[0]) if paragraphs else None
        return match.group("place").strip(" ,") if match else None

    def published(self) -> datetime | None:
        # JSON-LD carries UTC with its "Z"; the article: meta tags of the current template drop it.
        return at_zone(self._stamp("datePublished", "article:published_time"), self.page.timezone)


class APRichTextV3(_APLayout):
    """apnews.com's Brightspot template (from mid-2023): h1.Page-headline, div.Page-authors, and the
    body as the direct <p>/<h2> children of div.RichTextStoryBody (figures, carousels and info boxes
    are their own elements and stay out)."""

    version = "ap/richtext-v3"
    requires = "a div.RichTextStoryBody body"

    @classmethod
    def match(cls, page: Page) -> APRichTextV3 | None:
        body = first_with_class(page.find(_ANCHORS), "RichTextStoryBody", "div")
        return cls(page, body) if body is not None else None

    def title(self) -> str | None:
        return first_text(with_class(self.anchors, "Page-headline", "h1")) or super().title()

    def authors(self) -> list[str]:
        return split_byline(first_text(with_class(self.anchors, "Page-authors", "div"))) or super().authors()


class APReactV2(_APLayout):
    """apnews.com's React template (2020 to mid-2023): div.Article[data-key=article] with the story's
    <p>s as direct children, bylines in span[class*=Component-bylines], the stamp in span.Timestamp."""

    version = "ap/react-v2"
    requires = "a div.Article[data-key=article] body"

    _title = etree.XPath(".//h1")
    _byline = etree.XPath(".//span[contains(@class, 'Component-bylines')]")

    @classmethod
    def match(cls, page: Page) -> APReactV2 | None:
        body = first_with_class(page.find(_ANCHORS), "Article", "div")
        return cls(page, body) if body is not None else None

    def _in_headline(self, xpath: etree.XPath) -> list[HtmlElement]:
        boxes = [div for div in self.anchors if div.tag == "div" and "CardHeadline" in (div.get("class") or "")]
        return [found for box in boxes for found in xpath(box)]

    def title(self) -> str | None:
        return first_text(self._in_headline(self._title)) or super().title()

    def authors(self) -> list[str]:
        return split_byline(first_text(self._in_headline(self._byline))) or super().authors()


class APHostedV1(_APLayout):
    """hosted.ap.org (AP's pages for partner newspapers, until 2020): h2.ap-story-headline,
    div.ap-story-byline, div.ap-story-timestamp, the story in a <block> inside div.ap-story, topics in
    ul.ap-story-tags."""

    version = "ap/hosted-v1"
    requires = "a div.ap-story with a <block> body"

    _in_story = etree.XPath(f"ancestor::div[{has_class('ap-story')}]")
    _links = etree.XPath(".//a")
    _tag_lists = etree.XPath("//ul[contains(@class, 'ap-story-tags')]")

    @classmethod
    def match(cls, page: Page) -> APHostedV1 | None:
        for block in page.find(_ANCHORS):
            if block.tag == "block" and cls._in_story(block):
                return cls(page, block)
        return None

    def title(self) -> str | None:
        return first_text(with_class(self.anchors, "ap-story-headline", "h2")) or self.page.first_meta("og:title")

    def authors(self) -> list[str]:
        return split_byline(first_text(with_class(self.anchors, "field-name-field-byline-original", "div")))

    def published(self) -> datetime | None:
        raw = self.page.first_meta("article:published_time")
        return at_zone(parse_iso(raw, tz=self.page.timezone), self.page.timezone) if raw else None

    def updated(self) -> datetime | None:
        raw = self.page.first_meta("article:modified_time", "og:updated_time")
        return at_zone(parse_iso(raw, tz=self.page.timezone), self.page.timezone) if raw else None

    def tags(self) -> list[str]:
        lists = self._tag_lists(self.page.root)
        return unique(element_text(a) for box in lists for a in self._links(box)) or split_tags(
            self.page.meta.get("article:tag", [])
        )


# Newest first: what a fresh fetch of apnews.com returns.
LAYOUTS: tuple[type[Layout], ...] = (APRichTextV3, APReactV2, APHostedV1)


def parse(html: bytes | str, url: str) -> Article:
    """One AP page with the layout its markup is; NotAnArticle naming the failed checks otherwise."""
    return parse_page(html, url, source=NAME, timezone=TIMEZONE, layouts=LAYOUTS)
