"""The ingest pipeline as plain functions: discover -> fetch -> parse -> label -> store.

Prefect flows in `flows/` call these; tests and benchmarks call them directly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from datetime import time as clock_time
from typing import Any

import numpy as np

from wirestance.articles import Article
from wirestance.failures import Failure
from wirestance.feeds import FeedError, FeedItem, parse_feed, parse_news_sitemap
from wirestance.fetch import FetchError
from wirestance.identity import PageClaim as PageClaim  # what a page claims, kept per run by Resources
from wirestance.identity import one_page_per_article
from wirestance.lake.outcomes import replaces_stored
from wirestance.lake.schema import PARTITION_COLUMN, PROBABILITY_COLUMNS, SCHEMA_VERSION
from wirestance.pages import Page, parse_page
from wirestance.pages import screen_article as screen_article  # the limits every stored article meets
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
        return moment is None or self.start <= self.placed(moment) < self.end

    def placed(self, moment: datetime) -> datetime:
        """Where a moment falls for this window. A page that prints only a date (midnight in its own zone)
        counts on that printed day, at midnight in the window's zone: a story of 1 January printed in
        Istanbul (21:00 UTC on 31 December) belongs to a window of 1 January UTC, as its partition does."""
        if moment.tzinfo is None or (moment.hour, moment.minute, moment.second, moment.microsecond) != (0, 0, 0, 0):
            return moment
        return datetime.combine(moment.date(), clock_time(), tzinfo=self.start.tzinfo)


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
    """Read the source's feeds and news sitemaps (or `feed_urls` instead); keep each article once, within
    the window. Feed problems are recorded as failures, never raised.
    """
    source = get_source(source_name)
    fetcher = resources.fetcher(source, base_url)
    result = Discovery(source=source.name)
    seen: set[str] = set()
    domains = fetcher.allowed_domains
    try:
        lists = [(url, parse_feed) for url in feed_urls or source.feed_urls(list(categories or ()), base_url)]
    except ValueError as exc:  # a category the source has no feed for
        result.failures.append(Failure(source.site_origin, source.name, "discover", str(exc)))
        lists = []
    if not feed_urls and not categories:
        lists += [(url, parse_news_sitemap) for url in source.news_sitemap_urls(base_url)]
    for feed_url, reader in lists:
        try:
            response = fetcher.get(feed_url, conditional=conditional)
            if response.not_modified:
                result.feeds_not_modified += 1
                continue
            if response.status != 200:
                raise FeedError(feed_url, f"HTTP {response.status}")
            feed = reader(response.body, feed_url, domains)
        except (FetchError, FeedError) as exc:
            result.failures.append(Failure(feed_url, source.name, "discover", str(exc)))
            continue
        except Exception as exc:  # a feed that breaks the reader is one failure, not the end of the run
            log.exception("reading the feed %s crashed", feed_url)
            result.failures.append(
                Failure(feed_url, source.name, "discover", f"{feed_url}: {type(exc).__name__}: {exc}")
            )
            continue
        if feed.capped:
            result.failures.append(Failure(feed_url, source.name, "discover", f"{feed_url}: {feed.capped}"))
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
    resources: Resources,
    source: Source,
    urls: Sequence[str],
    base_url: str | None,
    *,
    deadline: float | None = None,
) -> tuple[list[tuple[Article, datetime]], list[Failure]]:
    """Fetch pages (up to the per-host concurrency at once) and parse them; failures are per URL.

    `deadline` (time.monotonic()): URLs not started by then are failures, requests in flight stop at it.
    """
    fetcher = resources.fetcher(source, base_url)
    settings = resources.settings

    def fetch(url: str) -> Page:
        if deadline is not None and time.monotonic() >= deadline:
            raise FetchError(url, "the batch deadline passed before it was fetched")
        response = fetcher.get(url, deadline=deadline)
        if response.status != 200:
            raise FetchError(url, f"HTTP {response.status}")
        return Page(url, response.body, response.declared_charset, response.fetched_at)

    workers = max(1, settings.per_host_concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        results = list(pool.map(lambda url: parse_page(source, url, lambda: fetch(url), settings), urls))
    parsed = [(article, page.fetched_at) for article, page in (r for r in results if isinstance(r, tuple))]
    failures = [r for r in results if isinstance(r, Failure)]
    return parsed, failures


def article_rows(
    parsed: Sequence[tuple[Article, datetime]],
    model: StanceLabeller,
    hashes: Sequence[tuple[str, str]] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Lake rows for parsed articles, every article labelled whole (its paragraphs in order, with title and
    lede) in one model call. `hashes`: each article's (content_hash, paragraphs_hash) when the caller has
    them already (reprocess workers compute them while parsing), so they are not computed twice."""
    labels, confidence, probabilities, topics = _label_articles([article for article, _ in parsed], model)
    if hashes is None:
        hashes = [(content_hash(article), paragraphs_hash(article)) for article, _ in parsed]
    elif len(hashes) != len(parsed):
        raise ValueError(f"{len(hashes)} hashes for {len(parsed)} articles")
    articles: list[dict[str, Any]] = []
    paragraphs: list[dict[str, Any]] = []
    offset = 0
    for position, (article, fetched_at) in enumerate(parsed):
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
                "content_hash": hashes[position][0],
                "paragraphs_hash": hashes[position][1],
                "model_version": model.version,
                "fetched_at": fetched_at,
                "capture_time": article.capture_time,
                "capture_origin": article.capture_origin,
                "parser_version": article.parser_version,
                "schema_version": SCHEMA_VERSION,
                "on_topic": topics[position][0],
                "payload_digest": article.payload_digest,
                "topic_score": topics[position][1],
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


def _label_articles(
    articles: Sequence[Article], model: StanceLabeller
) -> tuple[list[str], list[float], list[list[float]], list[tuple[bool | None, float | None]]]:
    """Flat labels, confidences and probabilities of every paragraph, and (on_topic, topic_score) per article.
    A model without predict_articles labels each paragraph alone and says nothing about the topic."""
    predict_articles = getattr(model, "predict_articles", None)
    if predict_articles is None:
        texts = [p for article in articles for p in article.paragraphs]
        batches = [model.predict(texts)] if texts else []
        topics: list[tuple[bool | None, float | None]] = [(None, None)] * len(articles)
    else:
        labelled = predict_articles(articles) if articles else []
        batches = [result.predictions for result in labelled]
        topics = [(bool(result.on_topic), float(result.topic_score)) for result in labelled]
    labels: list[str] = []
    confidence: list[float] = []
    probabilities: list[list[float]] = []
    for predictions in batches:
        # Python floats once per batch (float32 probabilities, as stored), not one conversion per paragraph.
        labels.extend(predictions.labels)
        confidence.extend(np.asarray(predictions.confidence).tolist())
        probabilities.extend(np.asarray(predictions.probabilities, dtype=np.float32).reshape(-1, 4).tolist())
    return labels, confidence, probabilities, topics


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


#: The fields of an article that are its content (not when, where from or by which parser it was read).
_CONTENT_FIELDS = tuple(
    f.name
    for f in dataclass_fields(Article)
    if f.name not in ("url", "capture_time", "capture_origin", "parser_version", "payload_digest")
)


def content_hash(article: Article) -> str:
    """What decides whether a stored article changed (not when or how it was fetched): a digest of the JSON
    of its content fields, as `dataclasses.asdict` gives them (read directly: asdict deep-copies every value,
    two thirds of the cost of hashing)."""
    content = {name: getattr(article, name) for name in _CONTENT_FIELDS}
    payload = json.dumps(content, default=str, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def process_batch(
    resources: Resources,
    source_name: str,
    urls: Sequence[str],
    model: StanceLabeller,
    base_url: str | None = None,
    *,
    reprocess: bool = False,
    run_deadline: datetime | None = None,
) -> SourceReport:
    """Fetch, parse, label and store a batch of article URLs; what it did, as a report of the source.

    The batch stops at Settings.batch_deadline or at `run_deadline`, whichever is first. A page claiming an
    article another page of the run (`resources.kept_pages`) already claims is never merged with it."""
    source = get_source(source_name)
    outcome = SourceReport(source=source.name)
    deadline = time.monotonic() + resources.settings.batch_deadline
    if run_deadline is not None:
        deadline = min(deadline, time.monotonic() + (run_deadline - datetime.now(UTC)).total_seconds())
    fetched, outcome.failures = fetch_and_parse(resources, source, urls, base_url, deadline=deadline)
    outcome.fetched = len(fetched) + sum(1 for f in outcome.failures if f.stage == "parse")
    parsed, duplicates = one_page_per_article(fetched, resources.kept_pages)
    outcome.failures.extend(duplicates)
    if parsed:
        try:
            articles, paragraphs = article_rows(parsed, model)
            outcome.counts = resources.lake.upsert(articles, paragraphs, replace_unchanged=reprocess)
        except Exception as exc:
            # The lake write is all or nothing per partition; record the batch as failed and go on.
            log.exception("labelling or storing a batch of %d articles failed", len(parsed))
            outcome.failures.extend(
                Failure(article.url, source.name, "store", f"{type(exc).__name__}: {exc}") for article, _ in parsed
            )
    return outcome


def store_failures(resources: Resources, failures: Sequence[Failure], run_id: str) -> int:
    """Write failure rows now; a lake that cannot take them (full, read-only) is logged, never raised, so
    the run goes on and its summary still counts them."""
    if not failures:
        return 0
    try:
        return resources.lake.append_failures(failures, run_id)
    except Exception as exc:
        log.error("could not write %d failure rows to the lake: %s: %s", len(failures), type(exc).__name__, exc)
        return 0
