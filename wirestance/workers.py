"""Worker processes for the CPU-bound steps of a reprocess: reading + parsing archived pages, and labelling.

The lake is written only by the process that owns the pool (one writer, atomic upserts); workers get
work as small descriptions (index rows, packed parsed articles) and send back packed parsed articles (with
the keys and hashes the owner decides on) or lake rows.

Workers are started with `spawn`, never `fork`: the parent may hold threads (Prefect's, the lake's Rust
runtime) that a forked child would inherit half-locked. Each worker opens the raw archive once, in its
initializer, and loads the model once, when its first labelling job comes. The model is best given as a
`ModelRef` (a version and how to load it): then each worker reads it from the registry itself and the
parent never loads it, nor pickles it into every worker it starts. The registry's loader gives workers the
version's export (wirestance.classifiers.exported: plain arrays, no scikit-learn), and nothing a worker
imports loads the lake (deltalake, pyarrow.dataset, pandas): a worker is ~110 MB with the model, where one
that unpickled the fitted model and imported the lake was ~280 MB (measured 2026-12-06).

`workers=0` runs the same job functions in this process, in the same order: the reference a parallel run
is compared with, and what small jobs (tests, a handful of pages) use to avoid the start-up cost.
"""

from __future__ import annotations

import multiprocessing
import pickle
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import pyarrow as pa

from wirestance.archive.reader import ArchiveReader
from wirestance.articles import Article
from wirestance.failures import Failure
from wirestance.lake.schema import ARTICLE_ROWS, PARAGRAPH_ROWS, Columns
from wirestance.pages import Page, parse_page
from wirestance.pipeline import StanceLabeller, article_rows, content_hash, paragraphs_hash
from wirestance.settings import Settings
from wirestance.sources import get_source

Job = TypeVar("Job")
Result = TypeVar("Result")


@dataclass(frozen=True, slots=True)
class ParkedArticle:
    """A parsed article as the owner of the pool handles it: what choosing the copy to keep, ordering and
    deciding what to redo need, beside the article itself packed (`pack`). The owner stores and forwards
    the packed bytes as they are: the (un)pickling and hashing of every article stay in the workers."""

    source: str
    article_id: str
    published: datetime
    updated: datetime | None
    content_hash: str
    paragraphs_hash: str
    parser_version: str
    packed: bytes


def pack(article: Article, fetched_at: datetime) -> ParkedArticle:
    hashes = content_hash(article), paragraphs_hash(article)
    # The hashes travel inside the packed bytes too, so the labelling job does not compute them again.
    data = zlib.compress(pickle.dumps((article, fetched_at, *hashes), protocol=pickle.HIGHEST_PROTOCOL), 1)
    return ParkedArticle(
        article.source,
        article.article_id,
        article.published,
        article.updated,
        *hashes,
        article.parser_version,
        data,
    )


def unpack(packed: bytes) -> tuple[Article, datetime]:
    article, fetched_at, _, _ = _unpacked(packed)
    return article, fetched_at


def _unpacked(packed: bytes) -> tuple[Article, datetime, str, str]:
    """(article, fetched_at, content_hash, paragraphs_hash) of `pack`'s bytes."""
    parsed: tuple[Article, datetime, str, str] = pickle.loads(zlib.decompress(packed))
    return parsed


@dataclass(frozen=True)
class ParsedPage:
    """What one archived response gave: a parsed article, a failure row, or neither (not an article page)."""

    article: ParkedArticle | None = None
    failure: Failure | None = None
    not_article: bool = False
    #: The response's payload digest, when the job said a stored article is current for it (not parsed).
    known_digest: str | None = None


@dataclass(frozen=True)
class ParseJob:
    """Index rows of archived responses (fetch order) to read and parse with one source's parsers."""

    source: str
    rows: list[dict[str, Any]]
    #: Limits an article must meet to be stored (dates, sizes: `pages.screen_article`); None: no screening.
    settings: Settings | None = None
    #: Positions in `rows` of responses whose payload the caller knows a current stored article was parsed
    #: from: neither read nor parsed, each answered by its place (`ParsedPage.known_digest`).
    known: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ParseAnswer:
    pages: list[ParsedPage]
    problems: list[Any]  # WarcProblem: damaged or missing records, reported by the reader


@dataclass(frozen=True)
class ModelRef:
    """A model named, not loaded: its version, and a picklable callable that loads it (a module-level
    function, a bound method of a picklable object, or a functools.partial of one) in the worker."""

    version: str
    load: Callable[[], StanceLabeller]


# -- the jobs: plain functions of (worker state, job) --------------------------------------------------


@dataclass
class WorkerState:
    """What a worker opens once: a reader of the raw archive, and the model (loaded when first needed)."""

    model_source: StanceLabeller | ModelRef | None = None
    reader: ArchiveReader | None = None
    _model: StanceLabeller | None = field(default=None, repr=False)

    @classmethod
    def open(cls, raw_url: str | None, lake_url: str | None, model: StanceLabeller | ModelRef | None) -> WorkerState:
        reader = ArchiveReader(raw_url, lake_url) if raw_url is not None and lake_url is not None else None
        return cls(model_source=model, reader=reader)

    @property
    def model(self) -> StanceLabeller:
        if self._model is None:
            source = self.model_source
            if source is None:
                raise RuntimeError("this worker pool was opened without a model")
            if isinstance(source, ModelRef):
                loaded = source.load()
                if loaded.version != source.version:
                    raise RuntimeError(f"model {source.version!r} asked for, {loaded.version!r} loaded")
                self._model = loaded
            else:
                self._model = source
        return self._model

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


def parse_job(state: WorkerState, job: ParseJob) -> ParseAnswer:
    """Read the job's records from the raw archive and parse them; never raises for one bad page."""
    reader = state.reader
    if reader is None:
        raise RuntimeError("this worker pool was opened without a raw archive")
    source = get_source(job.source)
    pages: list[ParsedPage] = []
    before = len(reader.problems)
    for position, row in enumerate(job.rows):
        if position in job.known:
            pages.append(ParsedPage(known_digest=row["payload_digest"]))
            continue
        response = reader.response(row)
        if response is None or response.status != 200:
            continue
        if source.article_id(response.url) is None:
            pages.append(ParsedPage(not_article=True))  # feeds, robots.txt, index pages
            continue
        page = Page(
            response.url,
            response.body,
            response.declared_charset,
            response.fetched_at,
            response.capture_time,
            response.capture_origin,
        )
        result = parse_page(source, response.url, lambda page=page: page, job.settings)  # type: ignore[misc]
        if isinstance(result, Failure):
            pages.append(ParsedPage(failure=result))
        else:
            pages.append(ParsedPage(article=pack(result[0], response.fetched_at)))
    problems = reader.problems[before:]
    del reader.problems[before:]
    return ParseAnswer(pages, problems)


def label_job(state: WorkerState, packed: list[bytes]) -> tuple[Columns, Columns]:
    """Lake rows (articles, labelled paragraphs) for whole articles (`ParkedArticle.packed`), with the
    worker's model, as column lists (`schema.rows_table` makes the Arrow tables the lake takes): a few lists per job
    to unpickle in the lake's owner instead of a dict per paragraph to unpickle and convert there (the owner's
    CPU is what the workers wait on when both cores are busy). Not Arrow tables themselves: converting
    Python values to Arrow imports pandas (pyarrow checks for it), ~37 MB of each worker (measured 2026-12-07)."""
    articles = [_unpacked(one) for one in packed]
    article_part, paragraph_part = article_rows(
        [(article, fetched_at) for article, fetched_at, _, _ in articles],
        state.model,
        [(content, paragraphs) for _, _, content, paragraphs in articles],
    )
    return _columns(article_part, ARTICLE_ROWS), _columns(paragraph_part, PARAGRAPH_ROWS)


def _columns(rows: list[dict[str, Any]], wanted: pa.Schema) -> Columns:
    return {name: [row.get(name) for row in rows] for name in wanted.names}


_worker_state: WorkerState | None = None


def _init_worker(raw_url: str | None, lake_url: str | None, model: StanceLabeller | ModelRef | None) -> None:
    global _worker_state
    _worker_state = WorkerState.open(raw_url, lake_url, model)


def _in_worker(function: Callable[[WorkerState, Job], Result], job: Job) -> Result:
    assert _worker_state is not None, "worker used before its initializer ran"
    return function(_worker_state, job)


# -- the pool ----------------------------------------------------------------------------------------


class WorkerPool:
    """`workers` processes (0: this process) that parse archived pages and label articles.

    `map` keeps results in job order and holds at most `ahead` jobs in flight, so memory stays bounded
    however long the input is, and workers stay busy while the caller consumes a result.
    """

    def __init__(
        self,
        workers: int,
        *,
        model: StanceLabeller | ModelRef | None = None,
        raw_url: str | None = None,
        lake_url: str | None = None,
    ) -> None:
        self.workers = max(0, workers)
        self._init_args = (raw_url, lake_url, model)
        self._local: WorkerState | None = None
        self._executor: ProcessPoolExecutor | None = None
        if self.workers > 0:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=self._init_args,
            )

    def map(
        self, function: Callable[[WorkerState, Job], Result], jobs: Iterable[Job], ahead: int | None = None
    ) -> Iterator[Result]:
        if self._executor is None:
            state = self._here()
            for job in jobs:
                yield function(state, job)
            return
        limit = ahead or 2 * self.workers
        pending: deque[Future[Result]] = deque()
        for job in jobs:
            pending.append(self._executor.submit(_in_worker, function, job))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def submit(self, function: Callable[[WorkerState, Job], Result], job: Job) -> Callable[[], Result]:
        """Start one job now (in this process: when asked for); the returned callable waits for its result."""
        if self._executor is None:
            state = self._here()
            return lambda: function(state, job)
        return self._executor.submit(_in_worker, function, job).result

    def _here(self) -> WorkerState:
        if self._local is None:
            self._local = WorkerState.open(*self._init_args)
        return self._local

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._local is not None:
            self._local.close()
            self._local = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
