"""RSS 2.0 feed reading, refusing feeds that are malformed, declare entities, or point off the source."""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from wirestance.fetch import host_allowed


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


# No DTDs, no entity expansion, no network: entity bombs and external entities cannot do anything.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


def parse_rss(body: bytes, feed_url: str, allowed_domains: Sequence[str]) -> ParsedFeed:
    head = body[:4096].lower()
    if b"<!entity" in head or (b"<!doctype" in head and b"[" in head.split(b"<!doctype", 1)[1][:2048]):
        raise FeedError(feed_url, "feed declares a DTD with entities; refused")
    if not body.strip():
        raise FeedError(feed_url, "empty feed")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise FeedError(feed_url, f"malformed XML: {exc}") from None
    if root.tag != "rss" or root.find("channel") is None:
        raise FeedError(feed_url, f"not an RSS 2.0 feed (root element <{root.tag}>)")
    items: list[FeedItem] = []
    rejected: list[tuple[str, str]] = []
    for node in root.iterfind("channel/item"):
        title = (node.findtext("title") or "").strip()
        link = (node.findtext("link") or node.findtext("guid") or "").strip()
        if not link:
            rejected.append((title or "(untitled item)", "item has no link"))
            continue
        if not link.lower().startswith(("http://", "https://")):
            rejected.append((link, "link is not http(s)"))
            continue
        if not host_allowed(link, allowed_domains):
            rejected.append((link, f"link is outside the source's domains {list(allowed_domains)}"))
            continue
        items.append(
            FeedItem(
                url=link,
                title=title,
                published=_rfc822(node.findtext("pubDate")),
                category=(node.findtext("category") or "").strip() or None,
                feed_url=feed_url,
            )
        )
    if rejected and not items:
        raise FeedError(feed_url, f"every item was refused, first: {rejected[0][0]}: {rejected[0][1]}")
    return ParsedFeed(items=items, rejected=rejected)


def _rfc822(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
