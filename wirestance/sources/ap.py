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
from urllib.parse import urlsplit
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
    has_class,
    parse_iso,
    parse_page,
    split_byline,
    split_tags,
    unique,
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
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None
    if host == "apnews.com" or host.endswith(".apnews.com"):
        match = _APNEWS_PATH.match(parts.path)
    elif host == "hosted.ap.org":
        match = _HOSTED_PATH.match(parts.path)
    else:
        return None
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


class _APLayout(Layout):
    """Fields read the same way in every AP template."""

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

    _bodies = etree.XPath(f"//div[{has_class('RichTextStoryBody')}]")
    _blocks = etree.XPath("p | h2 | h3")
    _title = etree.XPath(f"//h1[{has_class('Page-headline')}]")
    _byline = etree.XPath(f"//div[{has_class('Page-authors')}]")

    def __init__(self, page: Page, body: HtmlElement) -> None:
        super().__init__(page)
        self.body = body

    @classmethod
    def match(cls, page: Page) -> APRichTextV3 | None:
        bodies = cls._bodies(page.root)
        return cls(page, bodies[0]) if bodies else None

    def title(self) -> str | None:
        return first_text(self._title(self.page.root)) or super().title()

    def authors(self) -> list[str]:
        return split_byline(first_text(self._byline(self.page.root))) or super().authors()

    def body_paragraphs(self) -> list[HtmlElement]:
        return _without_trailer(self._blocks(self.body))


class APReactV2(_APLayout):
    """apnews.com's React template (2020 to mid-2023): div.Article[data-key=article] with the story's
    <p>s as direct children, bylines in span[class*=Component-bylines], the stamp in span.Timestamp."""

    version = "ap/react-v2"
    requires = "a div.Article[data-key=article] body"

    _bodies = etree.XPath("//div[@data-key='article' or @class='Article']")
    _blocks = etree.XPath("p | h2 | h3")
    _title = etree.XPath("//div[contains(@class, 'CardHeadline')]//h1")
    _byline = etree.XPath("//div[contains(@class, 'CardHeadline')]//span[contains(@class, 'Component-bylines')]")
    _timestamp = etree.XPath("//div[contains(@class, 'CardHeadline')]//span[@data-source]/@data-source")

    def __init__(self, page: Page, body: HtmlElement) -> None:
        super().__init__(page)
        self.body = body

    @classmethod
    def match(cls, page: Page) -> APReactV2 | None:
        for body in cls._bodies(page.root):
            if "Article" in (body.get("class") or "").split():
                return cls(page, body)
        return None

    def title(self) -> str | None:
        return first_text(self._title(self.page.root)) or super().title()

    def authors(self) -> list[str]:
        return split_byline(first_text(self._byline(self.page.root))) or super().authors()

    def body_paragraphs(self) -> list[HtmlElement]:
        return _without_trailer(self._blocks(self.body))


class APHostedV1(_APLayout):
    """hosted.ap.org (AP's pages for partner newspapers, until 2020): h2.ap-story-headline,
    div.ap-story-byline, div.ap-story-timestamp, the story in a <block> inside div.ap-story, topics in
    ul.ap-story-tags."""

    version = "ap/hosted-v1"
    requires = "a div.ap-story with a <block> body"

    _bodies = etree.XPath(f"//div[{has_class('ap-story')}]//block")
    _blocks = etree.XPath("p | h2 | h3")
    _title = etree.XPath(f"//h2[{has_class('ap-story-headline')}]")
    _byline = etree.XPath("//div[contains(@class, 'field-name-field-byline-original')]")
    _tags = etree.XPath(f"//ul[{has_class('ap-story-tags')}]//a")

    def __init__(self, page: Page, body: HtmlElement) -> None:
        super().__init__(page)
        self.body = body

    @classmethod
    def match(cls, page: Page) -> APHostedV1 | None:
        bodies = cls._bodies(page.root)
        return cls(page, bodies[0]) if bodies else None

    def title(self) -> str | None:
        return first_text(self._title(self.page.root)) or self.page.first_meta("og:title")

    def authors(self) -> list[str]:
        return split_byline(first_text(self._byline(self.page.root)))

    def published(self) -> datetime | None:
        raw = self.page.first_meta("article:published_time")
        return at_zone(parse_iso(raw, tz=self.page.timezone), self.page.timezone) if raw else None

    def updated(self) -> datetime | None:
        raw = self.page.first_meta("article:modified_time", "og:updated_time")
        return at_zone(parse_iso(raw, tz=self.page.timezone), self.page.timezone) if raw else None

    def tags(self) -> list[str]:
        return unique(element_text(a) for a in self._tags(self.page.root)) or split_tags(
            self.page.meta.get("article:tag", [])
        )

    def body_paragraphs(self) -> list[HtmlElement]:
        return _without_trailer(self._blocks(self.body))


# Newest first: what a fresh fetch of apnews.com returns.
LAYOUTS: tuple[type[Layout], ...] = (APRichTextV3, APReactV2, APHostedV1)


def parse(html: bytes | str, url: str) -> Article:
    """One AP page with the layout its markup is; NotAnArticle naming the failed checks otherwise."""
    return parse_page(html, url, source=NAME, timezone=TIMEZONE, layouts=LAYOUTS)
