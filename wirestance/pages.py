"""Fetch or read a page, then parse it, or record why not: the one step ingest, discovery and reprocess share.

Where the bytes come from differs (a live fetch, an archived capture, a WARC record); what follows does not:
decode, parse with the source's parser, stamp an archived capture's time and origin on the article, and turn
any problem into a `Failure` so one bad page never ends a run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from wirestance.archive.records import payload_digest
from wirestance.articles import Article, NotAnArticle
from wirestance.failures import Failure
from wirestance.fetch import FetchError, RecordingError, decode_body
from wirestance.settings import Settings
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


def parse_page(
    source: Source, url: str, obtain: Callable[[], Page], settings: Settings | None = None
) -> tuple[Article, Page] | Failure:
    """The article `obtain()` gives for `url` (with the page it came from), or why there is none.

    `obtain` fetches or reads the page; a FetchError it raises is a `fetch` failure (an `archive` one when the
    response could not be recorded). A page that is not an article, or that crashes the parser, is a `parse`
    failure; with `settings`, so is one `screen_article` refuses (implausible dates, hostile sizes).
    """
    try:
        page = obtain()
    except RecordingError as exc:
        return Failure(url, source.name, "archive", str(exc))
    except FetchError as exc:
        return Failure(url, source.name, "fetch", str(exc))
    except Exception as exc:  # a fetcher bug must not sink the run either
        log.exception("fetching %s crashed", url)
        return Failure(url, source.name, "fetch", f"{url}: {type(exc).__name__}: {exc}")
    try:
        article = source.parse(decode_body(page.body, page.declared_charset), url=page.url)
        if settings is not None:
            article = screen_article(article, settings)
    except NotAnArticle as exc:
        return Failure(url, source.name, "parse", str(exc))
    except Exception as exc:  # a parser bug must not sink the run; it is recorded with its type
        log.exception("parser crashed on %s", page.url)
        return Failure(url, source.name, "parse", f"{page.url}: {type(exc).__name__}: {exc}")
    stamps: dict[str, Any] = {"payload_digest": payload_digest(page.body)}
    if page.capture_time is not None:
        stamps.update(capture_time=page.capture_time, capture_origin=page.capture_origin)
    return replace(article, **stamps), page


def screen_article(article: Article, settings: Settings, now: datetime | None = None) -> Article:
    """The article as it may be stored, or NotAnArticle: a publication date outside the plausible range
    (Settings.earliest_published .. now + future_slack) is refused, an implausible update time dropped;
    more paragraphs than Settings.max_paragraphs is refused; a paragraph over max_paragraph_chars is cut."""
    now = now or datetime.now(UTC)
    earliest = datetime.combine(date.fromisoformat(settings.earliest_published), clock_time(), tzinfo=UTC)
    latest = now + timedelta(seconds=settings.future_slack)
    where = article.url
    if not _within(article.published, earliest, latest):
        raise NotAnArticle(
            where,
            f"implausible publication date {article.published.isoformat()} "
            f"(accepted: {earliest.date().isoformat()} to {latest.date().isoformat()})",
        )
    changes: dict[str, Any] = {}
    if article.updated is not None and not _within(article.updated, article.published, latest):
        log.warning("%s: dropped implausible update time %s", where, article.updated.isoformat())
        changes["updated"] = None
    if len(article.paragraphs) > settings.max_paragraphs:
        raise NotAnArticle(
            where, f"{len(article.paragraphs)} paragraphs, more than the {settings.max_paragraphs} an article may have"
        )
    cap = settings.max_paragraph_chars
    if any(len(text) > cap for text in article.paragraphs):
        changes["paragraphs"] = [text[:cap] for text in article.paragraphs]
    return replace(article, **changes) if changes else article


def _within(moment: datetime, earliest: datetime, latest: datetime) -> bool:
    try:
        return earliest <= moment <= latest
    except OverflowError:  # a time zone offset that pushes year 1 or 9999 out of range
        return False
