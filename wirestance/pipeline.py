"""The ingest pipeline as plain functions: discover -> fetch -> parse -> label -> store.

Prefect flows in `flows/` call these; tests and benchmarks call them directly.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from wirestance.articles import Article
from wirestance.failures import Failure
from wirestance.feeds import FeedError, FeedItem, parse_rss
from wirestance.fetch import FetchError
from wirestance.lake.schema import PARTITION_COLUMN, PROBABILITY_COLUMNS, SCHEMA_VERSION
from wirestance.lake.store import replaces_stored
from wirestance.pages import Page, parse_page
from wirestance.reports import SourceReport
from wirestance.resources import Resources
from wirestance.resources import StanceLabeller as StanceLabeller  # what the pipeline needs of a model
from wirestance.sources import get_source
from wirestance.sources.base import Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"window end {self.end.isoformat()} is not after its start {self.start.isoformat()}")

    def contains(self, moment: datetime | None) -> bool:
        return moment is None or self.start <= moment < self.end


@dataclass
class Discovery:
    source: str
    items: list[FeedItem] = field(default_factory=list)
    out_of_window: int = 0
    feeds_not_modified: int = 0
    failures: list[Failure] = field(default_factory=list)


def discover(
    resources: Resources,
    source_name: str,
    categories: Sequence[str] | None,
    window: Window,
    base_url: str | None = None,
    *,
    feed_urls: Sequence[str] | None = None,
    conditional: bool = False,
) -> Discovery:
    """Read the source's feeds (or `feed_urls` instead); keep each article once, within the window.

    Feed problems are recorded as failures, never raised.
    """
    source = get_source(source_name)
    fetcher = resources.fetcher(source, base_url)
    result = Discovery(source=source.name)
    seen: set[str] = set()
    domains = fetcher.allowed_domains
    feeds = list(feed_urls or source.feed_urls(list(categories or source.default_categories), base_url))
    for feed_url in feeds:
        try:
            response = fetcher.get(feed_url, conditional=conditional)
            if response.not_modified:
                result.feeds_not_modified += 1
                continue
            if response.status != 200:
                raise FeedError(feed_url, f"HTTP {response.status}")
            feed = parse_rss(response.body, feed_url, domains)
        except (FetchError, FeedError) as exc:
            result.failures.append(Failure(feed_url, source.name, "discover", str(exc)))
            continue
        for link, reason in feed.rejected:
            result.failures.append(Failure(link, source.name, "discover", f"{feed_url}: {reason}"))
        for item in feed.items:
            identity = source.article_id(item.url) or item.url
            if identity in seen:
                continue
            seen.add(identity)
            if window.contains(item.published):
                result.items.append(item)
            else:
                result.out_of_window += 1
    return result


def fetch_and_parse(
    resources: Resources, source: Source, urls: Sequence[str], base_url: str | None
) -> tuple[list[tuple[Article, datetime]], list[Failure]]:
    """Fetch pages (up to the per-host concurrency at once) and parse them; failures are per URL."""
    fetcher = resources.fetcher(source, base_url)

    def fetch(url: str) -> Page:
        response = fetcher.get(url)
        if response.status != 200:
            raise FetchError(url, f"HTTP {response.status}")
        return Page(url, response.body, response.declared_charset, response.fetched_at)

    workers = max(1, resources.settings.per_host_concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        results = list(pool.map(lambda url: parse_page(source, url, lambda: fetch(url)), urls))
    parsed = [(article, page.fetched_at) for article, page in (r for r in results if isinstance(r, tuple))]
    failures = [r for r in results if isinstance(r, Failure)]
    return parsed, failures


def article_rows(
    parsed: Sequence[tuple[Article, datetime]], model: StanceLabeller
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Lake rows for parsed articles, every paragraph labelled in one model call."""
    texts = [p for article, _ in parsed for p in article.paragraphs]
    predictions = model.predict(texts) if texts else None
    # Python floats once per batch (float32 probabilities, as stored), not one numpy conversion per paragraph.
    labels: list[str] = list(predictions.labels) if predictions is not None else []
    confidence: list[float] = np.asarray(predictions.confidence).tolist() if predictions is not None else []
    probabilities: list[list[float]] = (
        np.asarray(predictions.probabilities, dtype=np.float32).tolist() if predictions is not None else []
    )
    articles: list[dict[str, Any]] = []
    paragraphs: list[dict[str, Any]] = []
    offset = 0
    for article, fetched_at in parsed:
        day = article.published.date()
        articles.append(
            {
                "source": article.source,
                "article_id": article.article_id,
                "url": article.url,
                "canonical_url": article.canonical_url,
                "title": article.title,
                "lede": article.lede,
                "authors": article.authors,
                "published": article.published,
                "updated": article.updated,
                "dateline": article.dateline,
                "category": article.category,
                "tags": article.tags,
                "language": article.language,
                "n_paragraphs": len(article.paragraphs),
                "content_hash": content_hash(article),
                "paragraphs_hash": paragraphs_hash(article),
                "model_version": model.version,
                "fetched_at": fetched_at,
                "capture_time": article.capture_time,
                "capture_origin": article.capture_origin,
                "parser_version": article.parser_version,
                "schema_version": SCHEMA_VERSION,
                PARTITION_COLUMN: day,
            }
        )
        for index, text in enumerate(article.paragraphs):
            row = offset + index
            paragraphs.append(
                {
                    "source": article.source,
                    "article_id": article.article_id,
                    "para_index": index,
                    "text": text,
                    "label": labels[row],
                    "confidence": confidence[row],
                    **dict(zip(PROBABILITY_COLUMNS, probabilities[row], strict=True)),
                    "model_version": model.version,
                    "parser_version": article.parser_version,
                    "schema_version": SCHEMA_VERSION,
                }
            )
        offset += len(article.paragraphs)
    return articles, paragraphs


def paragraphs_hash(article: Article) -> str:
    """A digest of the paragraph texts in order: the labeller reads each paragraph in its article's context,
    so stored labels stay valid exactly while this digest and the model version do."""
    digest = hashlib.sha256()
    for text in article.paragraphs:
        encoded = text.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    return digest.hexdigest()


def replaces(stored: Article, later: Article) -> bool:
    """Whether a later copy of a stored article replaces it (the rule Lake.upsert applies to rows)."""
    return replaces_stored(content_hash(stored), stored.updated, content_hash(later), later.updated)


def content_hash(article: Article) -> str:
    """What decides whether a stored article changed (not when or how it was fetched)."""
    fields = asdict(article)
    for key in ("url", "fetched_at", "capture_time", "capture_origin", "parser_version"):
        fields.pop(key, None)
    payload = json.dumps(fields, default=str, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def process_batch(
    resources: Resources,
    source_name: str,
    urls: Sequence[str],
    model: StanceLabeller,
    base_url: str | None = None,
    *,
    reprocess: bool = False,
) -> SourceReport:
    """Fetch, parse, label and store a batch of article URLs; what it did, as a report of the source."""
    source = get_source(source_name)
    outcome = SourceReport(source=source.name)
    parsed, outcome.failures = fetch_and_parse(resources, source, urls, base_url)
    outcome.fetched = len(parsed) + sum(1 for f in outcome.failures if f.stage == "parse")
    if parsed:
        articles, paragraphs = article_rows(parsed, model)
        try:
            outcome.counts = resources.lake.upsert(articles, paragraphs, replace_unchanged=reprocess)
        except Exception as exc:
            # The lake write is all or nothing per partition; record the batch as failed and go on.
            log.exception("storing a batch of %d articles failed", len(articles))
            outcome.failures.extend(Failure(a["url"], source.name, "store", str(exc)) for a in articles)
    return outcome
