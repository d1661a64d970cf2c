"""The agency kit: a page parsed once, a layout base class and the helpers every agency parser shares.

An agency module declares its layouts (newest first) as `Layout` subclasses; `parse_page` parses the
HTML once into a `Page`, asks each layout whether the page is its markup (never its date), and lets
the first that recognises it read every field. A page no layout recognises is `NotAnArticle` naming
the check each layout made, never a half article.

Dates are always read with an explicit time zone: the one of the source passed to `parse_page` (the
zone the agency prints its wall-clock times in), or one a layout names for a stamp it knows is UTC.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, ClassVar
from urllib.parse import SplitResult, urlsplit

from lxml import etree
from lxml.html import HtmlElement

from wirestance.articles import Article, NotAnArticle
from wirestance.parsing import (
    canonical_url,
    element_text,
    find_json_ld,
    first_meta,
    html_language,
    json_ld_names,
    json_ld_objects,
    meta_tags,
    normalize_text,
    parse_html,
)

__all__ = [
    "ARTICLE_TYPES",
    "Layout",
    "Page",
    "at_zone",
    "drop_boilerplate",
    "drop_hidden",
    "element_text",
    "first_text",
    "first_with_class",
    "has_class",
    "list_item_text",
    "normalize_text",
    "parse_iso",
    "parse_page",
    "parse_printed",
    "remove_elements",
    "split_byline",
    "split_tags",
    "unique",
    "why_not_an_article",
    "with_class",
]

#: JSON-LD types that describe an article page.
ARTICLE_TYPES = ("NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle")


# --- the page, parsed once ---------------------------------------------------------------------


@dataclass(slots=True)
class Page:
    """Everything layouts read: the lxml tree, meta tags, JSON-LD and the source's time zone, each built once."""

    url: str
    root: HtmlElement
    meta: dict[str, list[str]]
    json_ld: list[dict[str, Any]]
    timezone: tzinfo
    _canonical: str | None = field(default=None, repr=False)
    _found: dict[int, list[Any]] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, html: bytes | str, url: str, *, timezone: tzinfo, drop_comments: bool = False) -> Page:
        root = parse_html(html, url, drop_comments=drop_comments)
        return cls(url=url, root=root, meta=meta_tags(root), json_ld=json_ld_objects(root), timezone=timezone)

    @property
    def canonical_url(self) -> str:
        """link rel=canonical, else og:url, else the URL the page was fetched from."""
        if self._canonical is None:
            self._canonical = canonical_url(self.root, self.meta, self.url)
        return self._canonical

    def first_meta(self, *keys: str) -> str | None:
        return first_meta(self.meta, *keys)

    def find(self, xpath: etree.XPath) -> list[Any]:
        """`xpath` evaluated on the document once per page: an agency's layouts share one anchor scan
        (a whole-document scan costs about as much as a tenth of the parse itself)."""
        key = id(xpath)
        if key not in self._found:
            self._found[key] = xpath(self.root)
        return self._found[key]

    def news_article(self) -> dict[str, Any] | None:
        """The page's article JSON-LD object (NewsArticle and its kin), if it has one."""
        return find_json_ld(self.json_ld, ARTICLE_TYPES)

    def ld_text(self, key: str) -> str | None:
        """A string field of the article JSON-LD, normalised; None when absent or not a string."""
        value = (self.news_article() or {}).get(key)
        return normalize_text(value) or None if isinstance(value, str) else None


# --- shared helpers: text, authors, tags, boilerplate --------------------------------------------


def url_on_domains(url: str, domains: Iterable[str]) -> SplitResult | None:
    """The parts of an http(s) URL whose host is one of `domains` or a subdomain of one; None for any other
    URL, a malformed one included (what every agency's `article_id` checks first)."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not any(host == d or host.endswith("." + d) for d in domains):
        return None
    return parts


def has_class(name: str) -> str:
    """XPath 1.0 test for one class token (a plain contains() would also match "body-foo")."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def with_class(elements: Iterable[HtmlElement], name: str, tag: str | None = None) -> list[HtmlElement]:
    """The elements (of `tag`, if given) whose class attribute has `name` as a whole token."""
    return [
        element
        for element in elements
        if (tag is None or element.tag == tag) and name in (element.get("class") or "").split()
    ]


def first_with_class(elements: Iterable[HtmlElement], name: str, tag: str | None = None) -> HtmlElement | None:
    found = with_class(elements, name, tag)
    return found[0] if found else None


def first_text(elements: Iterable[HtmlElement]) -> str | None:
    """The clean text of the first element that has any."""
    for element in elements:
        text = element_text(element)
        if text:
            return text
    return None


def unique(texts: Iterable[str]) -> list[str]:
    """Non-empty texts, first occurrence kept, order kept."""
    return list(dict.fromkeys(text for text in texts if text))


_BYLINE_PREFIX = re.compile(r"^\s*(?:by|written by|reporting by)\s+", re.IGNORECASE)
_BYLINE_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\|)\s*", re.IGNORECASE)


def split_byline(text: str | None) -> list[str]:
    """Names from a printed byline: "By Jane Doe and John Roe" or "Jane Doe, John Roe |" -> the names."""
    if not text:
        return []
    return unique(normalize_text(name) for name in _BYLINE_SPLIT.split(_BYLINE_PREFIX.sub("", text)))


def split_tags(values: Iterable[str], separator: str = ",") -> list[str]:
    """Tags from meta contents that may each hold one tag or a separated list of them."""
    return unique(normalize_text(tag) for value in values for tag in value.split(separator))


# Screen-reader-only text (", opens new tab") and hidden widgets: in the markup, not on the screen.
_HIDDEN = etree.XPath(
    ".//*[contains(translate(@style, ' ', ''), 'clip:rect(0000)') or contains(@class, 'sr-only')"
    " or contains(@class, 'visually-hidden') or contains(@class, 'screen-reader')]"
)


def remove_elements(elements: Iterable[HtmlElement]) -> None:
    """Take elements out of the tree, keeping the text that follows each (its tail) in place."""
    for element in list(elements):
        if element.getparent() is not None:
            element.drop_tree()


def drop_hidden(element: HtmlElement) -> HtmlElement:
    """Remove the screen-reader-only descendants of `element` (in place) and return it."""
    remove_elements(_HIDDEN(element))
    return element


_NESTED_LISTS = etree.XPath("ul | ol")


def list_item_text(item: HtmlElement) -> str:
    """A list item's own text, without the nested lists under it (those are items of their own)."""
    if not len(item) or not _NESTED_LISTS(item):
        return element_text(item)
    own = copy.deepcopy(item)
    remove_elements(_NESTED_LISTS(own))
    return element_text(own)


def drop_boilerplate(paragraphs: Iterable[str], boilerplate: re.Pattern[str] | None) -> list[str]:
    """The paragraphs that are not empty and do not match the agency's boilerplate pattern."""
    return [p for p in paragraphs if p and not (boilerplate is not None and boilerplate.search(p))]


# --- dates: always with an explicit zone ---------------------------------------------------------


def parse_iso(text: str, *, tz: tzinfo) -> datetime:
    """An ISO 8601 stamp (meta tags, JSON-LD); one without an offset is wall-clock time in `tz`.

    Also takes the "+0000" offset form some CMSs print. Raises ValueError for anything else.
    """
    value = normalize_text(text)
    value = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value)
    stamp = datetime.fromisoformat(value)
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=tz)


def parse_printed(text: str, formats: Sequence[str], *, tz: tzinfo) -> datetime:
    """A date printed on the page, read with the site's own strptime formats (tried in order), in `tz`.

    Always explicit formats: a guessing parser reads 05.04.2025 as May 4th. Raises ValueError.
    """
    value = normalize_text(text)
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise ValueError(f"{value!r} matches none of {list(formats)}")


def at_zone(stamp: datetime | None, tz: tzinfo) -> datetime | None:
    """The same instant on the source's own clock, so the printed date stays the agency's date."""
    return stamp.astimezone(tz) if stamp is not None else None


# --- layouts -------------------------------------------------------------------------------------


class Layout:
    """One page template of one agency. Subclasses say how to recognise it and where each field is.

    `match` recognises the page's markup and may keep the few elements the fields read from (one scan
    of the document), so each field method searches only a small subtree. The default field methods
    read the page's metadata (JSON-LD, then Open Graph and article: meta tags); layouts override the
    ones their markup prints better.
    """

    #: Parser version written beside every article ("ap/richtext-v2").
    version: ClassVar[str]
    #: What `match` looks for, named in NotAnArticle when no layout recognises a page.
    requires: ClassVar[str]
    #: Paragraphs matching this are furniture (subscription notices, "Read more", share prompts).
    boilerplate: ClassVar[re.Pattern[str] | None] = None

    def __init__(self, page: Page) -> None:
        self.page = page
        self._text: list[str] | None = None

    @classmethod
    def match(cls, page: Page) -> Layout | None:
        """A parser for the page if its markup is this layout, else None."""
        raise NotImplementedError

    @classmethod
    def matches(cls, page: Page) -> bool:
        return cls.match(page) is not None

    # Fields. Defaults read the metadata every agency page carries.
    def article_id(self) -> str | None:
        return None

    def canonical_url(self) -> str:
        return self.page.canonical_url

    def title(self) -> str | None:
        return self.page.ld_text("headline") or self.page.first_meta("og:title", "twitter:title")

    def lede(self) -> str | None:
        return None

    def authors(self) -> list[str]:
        return json_ld_names((self.page.news_article() or {}).get("author"))

    def _stamp(self, ld_key: str, *meta_keys: str) -> datetime | None:
        for raw in (self.page.ld_text(ld_key), *(self.page.first_meta(key) for key in meta_keys)):
            if raw:
                try:
                    return parse_iso(raw, tz=self.page.timezone)
                except ValueError:
                    continue
        return None

    def published(self) -> datetime | None:
        return at_zone(self._stamp("datePublished", "article:published_time"), self.page.timezone)

    def updated(self) -> datetime | None:
        return at_zone(self._stamp("dateModified", "article:modified_time"), self.page.timezone)

    def dateline(self) -> str | None:
        return None

    def category(self) -> str | None:
        return self.page.ld_text("articleSection") or self.page.first_meta("article:section")

    def tags(self) -> list[str]:
        return split_tags(self.page.meta.get("article:tag", []))

    def language(self) -> str:
        declared = self.page.ld_text("inLanguage") or html_language(self.page.root)
        return (declared or "en").split("-")[0].lower()

    def body_paragraphs(self) -> list[HtmlElement]:
        raise NotImplementedError

    def paragraphs(self) -> list[str]:
        return drop_boilerplate((element_text(p) for p in self.body_paragraphs()), self.boilerplate)

    def text(self) -> list[str]:
        """`paragraphs()`, read once: field methods (a dateline in the first paragraph) reuse it."""
        if self._text is None:
            self._text = self.paragraphs()
        return self._text

    def article(self, source: str) -> Article:
        """The whole article, or NotAnArticle naming the first required field that is missing."""
        where = self.page.url
        article_id = self.article_id()
        if article_id is None:
            raise NotAnArticle(where, f"no {source} article id in the canonical URL or the page URL")
        title = self.title()
        if not title:
            raise NotAnArticle(where, f"{self.version}: no title")
        published = self.published()
        if published is None:
            raise NotAnArticle(where, f"{self.version}: no publication date")
        paragraphs = self.text()
        if not paragraphs:
            raise NotAnArticle(where, f"{self.version}: empty body")
        updated = self.updated()
        return Article(
            url=self.page.url,
            canonical_url=self.canonical_url(),
            source=source,
            article_id=article_id,
            title=title,
            lede=self.lede(),
            authors=self.authors(),
            published=published,
            # A "last updated" at or before the publication is no update.
            updated=updated if updated is not None and updated > published else None,
            dateline=self.dateline(),
            category=self.category(),
            tags=self.tags(),
            language=self.language(),
            paragraphs=paragraphs,
            parser_version=self.version,
        )


# --- "why this is not an article" ----------------------------------------------------------------

_NOT_FOUND = re.compile(r"\b404\b|not found|could not be found|bulunamad", re.IGNORECASE)
_H1 = etree.XPath("//h1")
_TITLE = etree.XPath("//title")
_INDEX_TYPES = ("CollectionPage", "ItemList", "SearchResultsPage")


def why_not_an_article(page: Page, layouts: Sequence[type[Layout]]) -> str:
    """Name what a page no layout recognises is: a 404 page, an index page, or an unknown layout
    (then with the check each known layout made)."""
    title = normalize_text(first_text(_TITLE(page.root)) or "")
    heading = normalize_text(first_text(_H1(page.root)) or "")
    if _NOT_FOUND.search(title) or _NOT_FOUND.search(heading):
        return "page not found (a 404 page)"
    if page.news_article() is None and (
        page.first_meta("og:type") == "website" or find_json_ld(page.json_ld, _INDEX_TYPES) is not None
    ):
        return "an index or category page, not an article"
    checks = "; ".join(f"{layout.version} needs {layout.requires}" for layout in layouts)
    return f"unknown layout: {checks}"


def parse_page(
    html: bytes | str,
    url: str,
    *,
    source: str,
    timezone: tzinfo,
    layouts: Sequence[type[Layout]],
) -> Article:
    """Parse a page with the first of `layouts` that recognises its markup; NotAnArticle otherwise."""
    page = Page.parse(html, url, timezone=timezone)
    for layout in layouts:
        parser = layout.match(page)
        if parser is not None:
            return parser.article(source)
    raise NotAnArticle(url, why_not_an_article(page, layouts))
