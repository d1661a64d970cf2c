"""The ingest pipeline as plain functions: discover -> fetch -> parse -> label -> store.

Prefect flows in `flows/` call these; tests and benchmarks call them directly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import numpy as np

from wirestance.archive.recorder import ArchiveRecorder
from wirestance.articles import Article, NotAnArticle
from wirestance.feeds import FeedError, FeedItem, parse_rss
from wirestance.fetch import FetchError, PoliteFetcher, decode_body
from wirestance.lake import Lake, WriteCounts
from wirestance.lake.schema import PARTITION_COLUMN, PROBABILITY_COLUMNS, SCHEMA_VERSION
from wirestance.settings import Settings
from wirestance.sources import get_source
from wirestance.sources.base import Source

log = logging.getLogger(__name__)


class StanceLabeller(Protocol):
    """What the pipeline needs of a model (classifiers.predict.StanceModel provides it)."""

    version: str

    def predict(self, texts: Sequence[str]) -> Any: ...


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


def failure(url: str, source: str, stage: str, reason: str) -> dict[str, Any]:
    return {"url": url, "source": source, "stage": stage, "reason": reason, "failed_at": datetime.now(UTC)}


@dataclass
class Discovery:
    source: str
    items: list[FeedItem] = field(default_factory=list)
    out_of_window: int = 0
    feeds_not_modified: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BatchOutcome:
    source: str
    fetched: int = 0
    counts: WriteCounts = field(default_factory=WriteCounts)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_row(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "fetched": self.fetched,
            "new": self.counts.new,
            "updated": self.counts.updated,
            "unchanged": self.counts.unchanged,
            "failed": len(self.failures),
            "paragraphs": self.counts.paragraphs_written,
        }


class Runtime:
    """Per-process shared state: one fetcher per source (so pacing and robots.txt are shared), the lake."""

    _lock = threading.Lock()

    def __init__(self, settings: Settings, *, archive: bool = True) -> None:
        self.settings = settings
        self.lake = Lake(settings.lake_url)
        #: Every response of this process's fetchers goes to the raw WARC archive (reprocess reads it).
        self.recorder: ArchiveRecorder | None = ArchiveRecorder(settings, lake=self.lake) if archive else None
        self._fetchers: dict[tuple[str, str | None], PoliteFetcher] = {}

    def fetcher(self, source: Source, base_url: str | None) -> PoliteFetcher:
        key = (source.name, base_url)
        with self._lock:
            if key not in self._fetchers:
                domains = list(source.allowed_domains)
                if base_url:
                    domains.append((urlsplit(base_url).hostname or "").lower())
                self._fetchers[key] = PoliteFetcher(self.settings, domains, recorder=self.recorder)
            return self._fetchers[key]

    def close(self) -> None:
        for fetcher in self._fetchers.values():
            fetcher.close()
        self._fetchers.clear()
        if self.recorder is not None:
            self.recorder.flush()


def discover(
    runtime: Runtime,
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
    fetcher = runtime.fetcher(source, base_url)
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
            result.failures.append(failure(feed_url, source.name, "discover", str(exc)))
            continue
        for link, reason in feed.rejected:
            result.failures.append(failure(link, source.name, "discover", f"{feed_url}: {reason}"))
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
    runtime: Runtime, source: Source, urls: Sequence[str], base_url: str | None
) -> tuple[list[tuple[Article, datetime]], list[dict[str, Any]]]:
    """Fetch pages (up to the per-host concurrency at once) and parse them; failures are per URL."""
    fetcher = runtime.fetcher(source, base_url)

    def one(url: str) -> tuple[Article, datetime] | dict[str, Any]:
        try:
            response = fetcher.get(url)
        except FetchError as exc:
            return failure(url, source.name, "fetch", str(exc))
        if response.status != 200:
            return failure(url, source.name, "fetch", f"{url}: HTTP {response.status}")
        try:
            html = decode_body(response.body, response.declared_charset)
            return source.parse(html, url=url), response.fetched_at
        except NotAnArticle as exc:
            return failure(url, source.name, "parse", str(exc))
        except Exception as exc:  # a parser bug must not sink the batch; it is recorded with its type
            log.exception("parser crashed on %s", url)
            return failure(url, source.name, "parse", f"{url}: {type(exc).__name__}: {exc}")

    workers = max(1, runtime.settings.per_host_concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        results = list(pool.map(one, urls))
    parsed = [r for r in results if isinstance(r, tuple)]
    failures = [r for r in results if isinstance(r, dict)]
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


def content_hash(article: Article) -> str:
    """What decides whether a stored article changed (not when or how it was fetched)."""
    fields = asdict(article)
    for key in ("url", "fetched_at", "capture_time", "capture_origin", "parser_version"):
        fields.pop(key, None)
    payload = json.dumps(fields, default=str, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def process_batch(
    runtime: Runtime,
    source_name: str,
    urls: Sequence[str],
    model: StanceLabeller,
    base_url: str | None = None,
    *,
    reprocess: bool = False,
) -> BatchOutcome:
    source = get_source(source_name)
    outcome = BatchOutcome(source=source.name)
    parsed, outcome.failures = fetch_and_parse(runtime, source, urls, base_url)
    outcome.fetched = len(parsed) + sum(1 for f in outcome.failures if f["stage"] == "parse")
    if parsed:
        articles, paragraphs = article_rows(parsed, model)
        try:
            outcome.counts = runtime.lake.upsert(articles, paragraphs, replace_unchanged=reprocess)
        except Exception as exc:
            # The lake write is all or nothing per partition; record the batch as failed and go on.
            log.exception("storing a batch of %d articles failed", len(articles))
            outcome.failures.extend(failure(a["url"], source.name, "store", str(exc)) for a in articles)
    return outcome
