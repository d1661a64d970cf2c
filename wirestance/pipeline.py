"""The ingest pipeline as plain functions: discover -> fetch -> parse -> label -> store.

Prefect flows in `flows/` call these; tests and benchmarks call them directly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any, Protocol
from urllib.parse import urlsplit

import numpy as np

from wirestance.archive.recorder import ArchiveRecorder
from wirestance.articles import Article, NotAnArticle
from wirestance.durable import remove_stale_temporaries
from wirestance.feeds import FeedError, FeedItem, parse_rss
from wirestance.fetch import FetchError, PoliteFetcher, RecordingError, decode_body
from wirestance.lake import Lake, WriteCounts
from wirestance.lake.schema import PARTITION_COLUMN, PROBABILITY_COLUMNS, SCHEMA_VERSION
from wirestance.settings import Settings
from wirestance.sources import get_source
from wirestance.sources.base import Source
from wirestance.urls import canonical_url

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
        return moment is None or self.start <= self.placed(moment) < self.end

    def placed(self, moment: datetime) -> datetime:
        """Where a moment falls for this window. A page that prints only a date (midnight in its own zone)
        counts on that printed day, at midnight in the window's zone: a story of 1 January printed in
        Istanbul (21:00 UTC on 31 December) belongs to a window of 1 January UTC, as its partition does."""
        if moment.tzinfo is None or (moment.hour, moment.minute, moment.second, moment.microsecond) != (0, 0, 0, 0):
            return moment
        return datetime.combine(moment.date(), clock_time(), tzinfo=self.start.tzinfo)


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
        # Temporary files of writes a killed process left behind (its lake or archive files are whole).
        for root in (settings.lake_url, settings.raw_url):
            remove_stale_temporaries(root)
        self.lake = Lake(settings.lake_url)
        #: Every response of this process's fetchers goes to the raw WARC archive (reprocess reads it).
        self.recorder: ArchiveRecorder | None = ArchiveRecorder(settings, lake=self.lake) if archive else None
        self._fetchers: dict[tuple[str, str | None], PoliteFetcher] = {}
        #: The page kept so far for each article of the current run, so another page with the same
        #: identity in a later batch is judged by the same rule (see `one_page_per_article`).
        self._kept_pages: dict[tuple[str, str], PageClaim] = {}
        self._kept_run: str | None = None

    def kept_pages(self, run_id: str | None) -> dict[tuple[str, str], PageClaim]:
        """The pages kept by earlier batches of run `run_id` (only the latest run is remembered; without a
        run id, nothing is carried between batches)."""
        if run_id is None:
            return {}
        with self._lock:
            if run_id != self._kept_run:
                self._kept_pages, self._kept_run = {}, run_id
            return self._kept_pages

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
        self.seal_archive()

    def seal_archive(self) -> None:
        """Seal the WARC file being written so its records are indexed. A failure (a full disk) is logged,
        not raised: the file stays whole and the next start seals it."""
        if self.recorder is None:
            return
        try:
            self.recorder.flush()
        except Exception as exc:
            log.error("could not seal the raw archive file (the next start will): %s: %s", type(exc).__name__, exc)


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
        except Exception as exc:  # a feed that breaks the reader is one failure, not the end of the run
            log.exception("reading the feed %s crashed", feed_url)
            result.failures.append(
                failure(feed_url, source.name, "discover", f"{feed_url}: {type(exc).__name__}: {exc}")
            )
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
    runtime: Runtime,
    source: Source,
    urls: Sequence[str],
    base_url: str | None,
    *,
    deadline: float | None = None,
) -> tuple[list[tuple[Article, datetime]], list[dict[str, Any]]]:
    """Fetch pages (up to the per-host concurrency at once) and parse them; failures are per URL.

    Whatever goes wrong with one URL is a failure row naming the stage and the reason, never an exception.
    `deadline` (time.monotonic()): URLs not started by then are failures, requests in flight stop at it.
    """
    fetcher = runtime.fetcher(source, base_url)
    settings = runtime.settings

    def one(url: str) -> tuple[Article, datetime] | dict[str, Any]:
        if deadline is not None and time.monotonic() >= deadline:
            return failure(url, source.name, "fetch", f"{url}: the batch deadline passed before it was fetched")
        try:
            response = fetcher.get(url, deadline=deadline)
        except RecordingError as exc:
            return failure(url, source.name, "archive", str(exc))
        except FetchError as exc:
            return failure(url, source.name, "fetch", str(exc))
        except Exception as exc:  # a fetcher bug must not sink the batch either
            log.exception("fetching %s crashed", url)
            return failure(url, source.name, "fetch", f"{url}: {type(exc).__name__}: {exc}")
        if response.status != 200:
            return failure(url, source.name, "fetch", f"{url}: HTTP {response.status}")
        try:
            html = decode_body(response.body, response.declared_charset)
            article = screen_article(source.parse(html, url=url), settings)
            return article, response.fetched_at
        except NotAnArticle as exc:
            return failure(url, source.name, "parse", str(exc))
        except Exception as exc:  # a parser bug must not sink the batch; it is recorded with its type
            log.exception("parser crashed on %s", url)
            return failure(url, source.name, "parse", f"{url}: {type(exc).__name__}: {exc}")

    workers = max(1, settings.per_host_concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        results = list(pool.map(one, urls))
    parsed = [r for r in results if isinstance(r, tuple)]
    failures = [r for r in results if isinstance(r, dict)]
    return parsed, failures


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


@dataclass(frozen=True, slots=True)
class PageClaim:
    """A page's claim to be an article: its URL and its rank (what `one_page_per_article` compares)."""

    url: str
    rank: tuple[bool, datetime, str]

    @classmethod
    def of(cls, article: Article) -> PageClaim:
        """The page at its own canonical URL first, then the newest (update, else publication) time, then
        the smaller URL, so the choice never depends on the order pages were met in."""
        at_canonical = _url_path(article.url) == _url_path(article.canonical_url)
        newest = article.updated or article.published
        # max() picks the winner: rank on the URL's code points inverted, so the smaller URL ranks higher.
        return cls(article.url, (at_canonical, newest, "".join(chr(0x10FFFF - ord(c)) for c in article.url[:200])))


def _url_path(url: str) -> str:
    """The path a URL names once normalised: a mirror or the loopback replay serves the site's paths on
    another host, so the host does not take part."""
    try:
        return urlsplit(canonical_url(url)).path
    except ValueError:
        return url


def one_page_per_article(
    parsed: Sequence[tuple[Article, datetime]], kept: dict[tuple[str, str], PageClaim] | None = None
) -> tuple[list[tuple[Article, datetime]], list[dict[str, Any]]]:
    """One page per (source, article_id): two different pages claiming the same identity are never merged.

    The winner is picked by `PageClaim.rank`; the other page is a failure "duplicate of <winner>". `kept`
    holds the pages kept by earlier batches of the run (updated in place): a later page only replaces one
    (the lake's upsert then replaces it whole) if it ranks higher, and the earlier one is then recorded as
    the duplicate.
    """
    kept = {} if kept is None else kept
    chosen: dict[tuple[str, str], tuple[Article, datetime]] = {}
    failures: list[dict[str, Any]] = []

    def duplicate(loser: str, winner: str, article: Article) -> None:
        reason = (
            f"{loser}: duplicate of {winner} (both are {article.source} article {article.article_id}; "
            "kept: the page at its canonical URL, else the newest)"
        )
        failures.append(failure(loser, article.source, "identity", reason))

    for article, fetched_at in parsed:
        key = (article.source, article.article_id)
        claim = PageClaim.of(article)
        rival = PageClaim.of(chosen[key][0]) if key in chosen else kept.get(key)
        if rival is not None and rival.url != article.url:
            if claim.rank <= rival.rank:
                duplicate(article.url, rival.url, article)
                continue
            duplicate(rival.url, article.url, article)
            chosen.pop(key, None)
        chosen[key] = (article, fetched_at)
        kept[key] = claim
    return list(chosen.values()), failures


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
    run_id: str | None = None,
    run_deadline: datetime | None = None,
) -> BatchOutcome:
    """Fetch, parse, label and store one batch. With `run_id`, its failures are written to the lake here,
    as they happen (a run killed later keeps them); the batch stops at Settings.batch_deadline or at
    `run_deadline`, whichever is first."""
    source = get_source(source_name)
    outcome = BatchOutcome(source=source.name)
    settings = runtime.settings
    deadline = time.monotonic() + settings.batch_deadline
    if run_deadline is not None:
        deadline = min(deadline, time.monotonic() + (run_deadline - datetime.now(UTC)).total_seconds())
    fetched, outcome.failures = fetch_and_parse(runtime, source, urls, base_url, deadline=deadline)
    outcome.fetched = len(fetched) + sum(1 for f in outcome.failures if f["stage"] == "parse")
    parsed, duplicates = one_page_per_article(fetched, runtime.kept_pages(run_id))
    outcome.failures.extend(duplicates)
    if parsed:
        try:
            articles, paragraphs = article_rows(parsed, model)
            outcome.counts = runtime.lake.upsert(articles, paragraphs, replace_unchanged=reprocess)
        except Exception as exc:
            # The lake write is all or nothing per partition; record the batch as failed and go on.
            log.exception("labelling or storing a batch of %d articles failed", len(parsed))
            outcome.failures.extend(
                failure(article.url, source.name, "store", f"{type(exc).__name__}: {exc}") for article, _ in parsed
            )
    if run_id is not None:
        store_failures(runtime.lake, outcome.failures, run_id)
    return outcome


def store_failures(lake: Lake, failures: Sequence[dict[str, Any]], run_id: str) -> int:
    """Write failure rows now; a lake that cannot take them (full, read-only) is logged, never raised, so
    the run goes on and its summary still counts them."""
    if not failures:
        return 0
    try:
        return lake.append_failures(failures, run_id)
    except Exception as exc:
        log.error("could not write %d failure rows to the lake: %s: %s", len(failures), type(exc).__name__, exc)
        return 0
