"""Article URLs from the sitemaps a site's robots.txt declares: sitemap indexes, news sitemaps, lastmod.

A sitemap index whose child was last modified before the window cannot list an article published in it,
so such children are not read; neither are URLs whose lastmod (or news publication date) rules them out.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from wirestance.fetch import FetchError, PoliteFetcher, host_allowed
from wirestance.parsing import parse_iso_datetime

# A gzipped sitemap may expand a lot; the protocol caps one sitemap at 50 MB uncompressed.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
_SITEMAP_CHILDREN = etree.XPath("/*[local-name()='sitemapindex']/*[local-name()='sitemap']")
_URLS = etree.XPath("/*[local-name()='urlset']/*[local-name()='url']")
_LOC = etree.XPath("string(*[local-name()='loc'])")
_LASTMOD = etree.XPath("string(*[local-name()='lastmod'])")
_NEWS_DATE = etree.XPath("string(*[local-name()='news']/*[local-name()='publication_date'])")
_NEWS_TITLE = etree.XPath("string(*[local-name()='news']/*[local-name()='title'])")


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: datetime | None
    published: datetime | None  # from a news sitemap
    title: str | None = None


@dataclass
class SitemapScan:
    entries: list[SitemapEntry] = field(default_factory=list)
    sitemaps_read: int = 0
    skipped_by_lastmod: int = 0
    #: (url, reason) for sitemaps that could not be read and URLs refused.
    problems: list[tuple[str, str]] = field(default_factory=list)


def sitemaps_in_robots(robots_txt: str) -> list[str]:
    """The `Sitemap:` lines of a robots.txt, in order, once each (they apply to every user agent)."""
    found: list[str] = []
    for line in robots_txt.splitlines():
        key, sep, value = line.split("#", 1)[0].partition(":")
        if sep and key.strip().lower() == "sitemap" and value.strip() and value.strip() not in found:
            found.append(value.strip())
    return found


def scan_sitemaps(
    fetcher: PoliteFetcher,
    origin: str,
    start: datetime,
    end: datetime,
    *,
    max_sitemaps: int = 500,
    extra: Sequence[str] = (),
) -> SitemapScan:
    """Every URL that the sitemaps declared by `origin`/robots.txt, and the `extra` sitemaps the source
    declares itself, list as possibly published in [start, end)."""
    scan = SitemapScan()
    robots_url = origin.rstrip("/") + "/robots.txt"
    queue: deque[str] = deque(extra)
    try:
        robots = fetcher.get(robots_url)
    except FetchError as exc:
        robots = None
        scan.problems.append((robots_url, exc.reason))
    if robots is not None and robots.status != 200:
        scan.problems.append((robots_url, f"HTTP {robots.status}"))
    elif robots is not None:
        queue.extend(sitemaps_in_robots(robots.body.decode("utf-8", errors="replace")))
        if not queue:
            scan.problems.append((robots_url, "declares no sitemap"))
    if not queue:
        return scan
    seen: set[str] = set()
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        if scan.sitemaps_read >= max_sitemaps:
            scan.problems.append((url, f"not read: the limit of {max_sitemaps} sitemaps was reached"))
            break
        if not host_allowed(url, fetcher.allowed_domains):
            scan.problems.append((url, "sitemap outside the source's domains"))
            continue
        root = _fetch_xml(fetcher, url, scan)
        if root is None:
            continue
        scan.sitemaps_read += 1
        for child in _SITEMAP_CHILDREN(root):
            loc = _LOC(child).strip()
            lastmod = _date(_LASTMOD(child))
            if lastmod is not None and lastmod < start:
                scan.skipped_by_lastmod += 1
            elif loc:
                queue.append(loc)
        for node in _URLS(root):
            _add_entry(scan, node, fetcher.allowed_domains, start, end)
    return scan


def _add_entry(
    scan: SitemapScan, node: etree._Element, domains: tuple[str, ...], start: datetime, end: datetime
) -> None:
    loc = _LOC(node).strip()
    if not loc:
        return
    if not host_allowed(loc, domains):
        scan.problems.append((loc, "URL outside the source's domains"))
        return
    published = _date(_NEWS_DATE(node))
    lastmod = _date(_LASTMOD(node))
    # Without a news date, a page last changed before the window was also published before it.
    keep = start <= published < end if published is not None else lastmod is None or lastmod >= start
    if keep:
        scan.entries.append(SitemapEntry(loc, lastmod, published, _NEWS_TITLE(node).strip() or None))
    else:
        scan.skipped_by_lastmod += 1


def _fetch_xml(fetcher: PoliteFetcher, url: str, scan: SitemapScan) -> etree._Element | None:
    try:
        response = fetcher.get(url)
    except FetchError as exc:
        scan.problems.append((url, exc.reason))
        return None
    if response.status != 200:
        scan.problems.append((url, f"HTTP {response.status}"))
        return None
    body = response.body
    if body[:2] == b"\x1f\x8b":  # a .xml.gz served as a file, not as Content-Encoding
        inflater = zlib.decompressobj(wbits=31)
        body = inflater.decompress(body, MAX_SITEMAP_BYTES)
        if inflater.unconsumed_tail:
            scan.problems.append((url, f"expands past {MAX_SITEMAP_BYTES} bytes"))
            return None
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        scan.problems.append((url, f"not XML: {exc}"))
        return None
    if root is None:
        scan.problems.append((url, "not XML"))
    return root


def _date(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        # A date without a zone (W3C allows "2019-11-26") is read as UTC.
        return parse_iso_datetime(text, UTC)
    except ValueError:
        return None
