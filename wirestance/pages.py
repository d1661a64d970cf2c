"""Fetch or read a page, then parse it, or record why not: the one step ingest, discovery and reprocess share.

Where the bytes come from differs (a live fetch, an archived capture, a WARC record); what follows does not:
decode, parse with the source's parser, stamp an archived capture's time and origin on the article, and turn
any problem into a `Failure` so one bad page never ends a run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from wirestance.articles import Article, NotAnArticle
from wirestance.failures import Failure
from wirestance.fetch import FetchError, decode_body
from wirestance.sources.base import Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Page:
    """A page's bytes and where they come from."""

    url: str  # what to parse the page as: the address fetched, or the original URL of an archived capture
    body: bytes
    declared_charset: str | None
    fetched_at: datetime  # when we fetched it
    capture_time: datetime | None = None  # when a web archive captured it, for captures
    capture_origin: str | None = None  # "wayback" | "commoncrawl" for captures, None for the live site


def parse_page(source: Source, url: str, obtain: Callable[[], Page]) -> tuple[Article, Page] | Failure:
    """The article `obtain()` gives for `url` (with the page it came from), or why there is none.

    `obtain` fetches or reads the page; a FetchError it raises is a `fetch` failure. A page that is not an
    article, or that crashes the parser, is a `parse` failure.
    """
    try:
        page = obtain()
    except FetchError as exc:
        return Failure(url, source.name, "fetch", str(exc))
    try:
        article = source.parse(decode_body(page.body, page.declared_charset), url=page.url)
    except NotAnArticle as exc:
        return Failure(url, source.name, "parse", str(exc))
    except Exception as exc:  # a parser bug must not sink the run; it is recorded with its type
        log.exception("parser crashed on %s", page.url)
        return Failure(url, source.name, "parse", f"{page.url}: {type(exc).__name__}: {exc}")
    if page.capture_time is not None:
        article = replace(article, capture_time=page.capture_time, capture_origin=page.capture_origin)
    return article, page
