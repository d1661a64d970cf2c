"""The lists of latest articles a source publishes: RSS 2.0 and Atom feeds (read by feedparser) and
Google News sitemaps.

Every list can be hostile. A document that declares entities is refused before any parser sees it (no
entity expansion, no billion laughs); a link outside the source's domains is refused item by item; a list
longer than `MAX_ITEMS` is read up to the cap and says so.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser
from lxml import etree

from wirestance.fetch import host_allowed

#: Items read from one feed or news sitemap at most; a real feed lists tens, a news sitemap up to 1,000.
MAX_ITEMS = 5000


class FeedError(ValueError):
    """A feed refused as a whole; the message names the feed and why."""

    def __init__(self, feed_url: str, reason: str) -> None:
        super().__init__(f"{feed_url}: {reason}")
        self.feed_url = feed_url
        self.reason = reason


@dataclass(frozen=True)
class FeedItem:
    url: str
    title: str
    published: datetime | None
    category: str | None
    feed_url: str


@dataclass(frozen=True)
class ParsedFeed:
    items: list[FeedItem]
    #: Items skipped one by one (off-domain link, missing link), as (link or title, reason).
    rejected: list[tuple[str, str]]
    #: Set when the list was longer than the cap: what was left unread.
    capped: str | None = field(default=None)


_DTD_WITH_ENTITIES = re.compile(rb"<!DOCTYPE[^>\[]*\[|<!ENTITY", re.IGNORECASE)
_ITEM_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]")
_URL_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?url[\s>]")


def _refuse_entities(body: bytes, url: str) -> None:
    # Any DTD internal subset or entity declaration, anywhere: no parser is given the chance to expand one.
    if _DTD_WITH_ENTITIES.search(body):
        raise FeedError(url, "the document declares a DTD with entities; refused")


def _cap(body: bytes, start: re.Pattern[bytes], closing: bytes, limit: int) -> tuple[bytes, str | None]:
    """`body` cut before its (limit+1)-th item, closed again, and a note of what was cut (None if nothing)."""
    starts = start.finditer(body)
    cut = None
    for count, match in enumerate(starts, start=1):
        if count == limit + 1:
            cut = match.start()
            break
    if cut is None:
        return body, None
    total = limit + 1 + sum(1 for _ in starts)
    return body[:cut] + closing, f"lists {total} items; read the first {limit} (the cap), left {total - limit}"


def parse_feed(body: bytes, feed_url: str, allowed_domains: Sequence[str], *, max_items: int = MAX_ITEMS) -> ParsedFeed:
    """An RSS 2.0 or Atom feed's items; FeedError for a feed refused whole (the reason says why)."""
    if not body.strip():
        raise FeedError(feed_url, "empty feed")
    _refuse_entities(body, feed_url)
    closing = b"</feed>" if re.search(rb"<(?:[\w.-]+:)?feed[\s>]", body[:4096]) else b"</channel></rss>"
    body, capped = _cap(body, _ITEM_START, closing, max_items)
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    version = parsed.get("version") or ""
    if not (version.startswith("rss") or version.startswith("atom")):
        if parsed.get("bozo") and not parsed.entries:
            raise FeedError(feed_url, f"malformed XML: {parsed.get('bozo_exception')}")
        raise FeedError(feed_url, "not an RSS 2.0 or Atom feed")
    items: list[FeedItem] = []
    rejected: list[tuple[str, str]] = []
    for entry in parsed.entries[:max_items]:
        title = (entry.get("title") or "").strip()
        link = _entry_link(entry)
        if not link:
            rejected.append((title or "(untitled item)", "item has no link"))
            continue
        reason = _refusal(link, allowed_domains)
        if reason:
            rejected.append((link, reason))
            continue
        tags = entry.get("tags") or []
        category = next((t.get("term") or t.get("label") for t in tags if t.get("term") or t.get("label")), None)
        items.append(
            FeedItem(
                url=link,
                title=title,
                published=_entry_time(entry),
                category=category.strip() if category else None,
                feed_url=feed_url,
            )
        )
    if not items:
        if parsed.get("bozo"):
            raise FeedError(feed_url, f"malformed XML: {parsed.get('bozo_exception')}")
        if rejected:
            raise FeedError(feed_url, f"every item was refused, first: {rejected[0][0]}: {rejected[0][1]}")
    return ParsedFeed(items=items, rejected=rejected, capped=capped)


def parse_rss(body: bytes, feed_url: str, allowed_domains: Sequence[str]) -> ParsedFeed:
    """Kept for callers of the RSS-only reader: `parse_feed` reads RSS 2.0 and Atom alike."""
    return parse_feed(body, feed_url, allowed_domains)


def _refusal(link: str, allowed_domains: Sequence[str]) -> str | None:
    if not link.lower().startswith(("http://", "https://")):
        return "link is not http(s)"
    if not host_allowed(link, allowed_domains):
        return f"link is outside the source's domains {list(allowed_domains)}"
    return None


def _entry_link(entry: Any) -> str:
    # Atom: the rel="alternate" link is the article (feedparser puts it in `link`); RSS: <link>, else a
    # permalink <guid>.
    link = (entry.get("link") or "").strip()
    if not link:
        for candidate in entry.get("links") or []:
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                return str(candidate["href"]).strip()
        guid = (entry.get("id") or "").strip()
        if entry.get("guidislink") or guid.lower().startswith(("http://", "https://")):
            link = guid
    return link


def _entry_time(entry: Any) -> datetime | None:
    """The item's publication time with the offset it was written with (feedparser's own is UTC only)."""
    for key in ("published", "updated"):
        raw = (entry.get(key) or "").strip()
        if not raw:
            continue
        moment = _read_time(raw)
        if moment is not None:
            return moment
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            return datetime(*parsed[:6], tzinfo=UTC)
    return None


def _read_time(raw: str) -> datetime | None:
    try:
        moment = email.utils.parsedate_to_datetime(raw)  # RSS 2.0: RFC 822
    except (TypeError, ValueError):
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))  # Atom: RFC 3339
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- Google News sitemaps ------------------------------------------------------------------------------

_SITEMAP_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_URLS = etree.XPath("/*[local-name()='urlset']/*[local-name()='url']")
_LOC = etree.XPath("string(*[local-name()='loc'])")
_NEWS_DATE = etree.XPath("string(*[local-name()='news']/*[local-name()='publication_date'])")
_NEWS_TITLE = etree.XPath("string(*[local-name()='news']/*[local-name()='title'])")


def parse_news_sitemap(
    body: bytes, sitemap_url: str, allowed_domains: Sequence[str], *, max_items: int = MAX_ITEMS
) -> ParsedFeed:
    """The articles a Google News sitemap lists (<url> with <news:news>), with their publication times."""
    if not body.strip():
        raise FeedError(sitemap_url, "empty sitemap")
    _refuse_entities(body, sitemap_url)
    body, capped = _cap(body, _URL_START, b"</urlset>", max_items)
    try:
        root = etree.fromstring(body, _SITEMAP_PARSER)
    except etree.XMLSyntaxError as exc:
        raise FeedError(sitemap_url, f"malformed XML: {exc}") from None
    if etree.QName(root).localname != "urlset":
        raise FeedError(sitemap_url, f"not a news sitemap (root element <{etree.QName(root).localname}>)")
    items: list[FeedItem] = []
    rejected: list[tuple[str, str]] = []
    for node in _URLS(root):
        loc = _LOC(node).strip()
        if not loc:
            rejected.append(("(url without loc)", "item has no link"))
            continue
        reason = _refusal(loc, allowed_domains)
        if reason:
            rejected.append((loc, reason))
            continue
        raw = _NEWS_DATE(node).strip()
        items.append(
            FeedItem(
                url=loc,
                title=_NEWS_TITLE(node).strip(),
                published=_read_time(raw) if raw else None,
                category=None,
                feed_url=sitemap_url,
            )
        )
    if rejected and not items:
        raise FeedError(sitemap_url, f"every item was refused, first: {rejected[0][0]}: {rejected[0][1]}")
    return ParsedFeed(items=items, rejected=rejected, capped=capped)
