"""Reprocess: parse and label again what the raw archive holds, with today's parsers and model.

It reads only the lake (`raw_index`, and what is stored) and the WARC files: no request leaves the machine.
For every article of a source published in the window it picks the copy an ingest would have kept (fetch
order; a changed content replaces the kept one unless its update time is older) and stores it again, so new
parser or model versions land even where the content is the same.

Work is split by cost. Reading, parsing, hashing and (un)packing pages, and labelling articles, run in
worker processes (`Settings.workers`, default one per core; see wirestance.workers), which load the model
themselves when given a `ModelRef`; this process chooses the copy to keep from the keys and hashes the
workers send, parks the packed articles as bytes and writes the lake, so lake writes stay in one place.

1. Scan: index rows of the archived responses, in fetch order, go to the workers in small jobs; parsed
   articles come back in the same order and wait in a temporary spill file (only their sort keys and file
   positions stay in memory) until every copy has been seen. A response whose payload digest is that of a
   stored article parsed by today's parser and labelled by today's model is not read nor parsed again: the
   stored article stands for it (the same bytes through the same parser give the same article).
2. Store: in publication order, in batches of whole days (one upsert each, so a partition is written once),
   each article is
   - left alone when the stored copy has the same content, parser version and model version;
   - stored again with its stored labels when its paragraphs (all of them, in order) and the model version
     are the same as stored: the labeller reads context, so only a whole unchanged article reuses labels;
   - labelled by a worker otherwise. The next batch is labelled while this one is written.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from wirestance.archive.reader import ArchiveReader
from wirestance.articles import Article
from wirestance.failures import Failure
from wirestance.lake import Lake, WriteCounts
from wirestance.lake.outcomes import replaces_stored
from wirestance.lake.schema import ARTICLE_ROWS, PARAGRAPH_ROWS, PROBABILITY_COLUMNS, Columns, rows_table
from wirestance.lake.store import iter_batches
from wirestance.pipeline import StanceLabeller, Window, article_rows
from wirestance.settings import Settings
from wirestance.sources import get_source
from wirestance.sources.base import Source
from wirestance.workers import (
    ModelRef,
    ParkedArticle,
    ParseJob,
    WorkerPool,
    label_job,
    parse_job,
    unpack,
)

log = logging.getLogger(__name__)

Parsed = tuple[Article, datetime]
#: Lake rows of a batch's articles and paragraphs (`schema.ARTICLE_ROWS`, `schema.PARAGRAPH_ROWS`).
Rows = tuple[pa.Table, pa.Table]
_NO_ROWS: Rows = (ARTICLE_ROWS.empty_table(), PARAGRAPH_ROWS.empty_table())
#: Articles per stored batch (one Prefect task, one lake upsert), rounded up to a whole day. Each upsert looks
#: its keys up in every file of the table, so fewer, larger batches are faster: on 10,000 synthetic articles with
#: 2 workers, 151 s at 1,000 against 182 s at 250, this process peaking at 622 MB (measured 2026-12-06).
BATCH_ARTICLES = 1000
#: Archived responses per parse job sent to a worker: big enough that a job's overhead is small against
#: its parsing (~2 ms a page), small enough that the workers share the tail of the archive evenly.
PARSE_ROWS_PER_JOB = 64
#: Columns of the stored articles that decide what a reprocess must redo.
_STORED_COLUMNS = [
    "source",
    "article_id",
    "content_hash",
    "paragraphs_hash",
    "parser_version",
    "model_version",
    "published",
    "updated",
    "payload_digest",
    "published_date",
]
#: `_Kept.offset` of a copy that is the stored article itself (not parsed: nothing in the spill file).
_STORED_COPY = -1


class _Spill:
    """Packed parsed articles (see workers.pack) parked in a temporary file until they are labelled and stored."""

    def __init__(self, directory: str | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=directory, prefix="wirestance-reprocess-")  # noqa: SIM115

    def put(self, packed: bytes) -> tuple[int, int]:
        """Store one packed article; its (offset, length) in the file."""
        offset = self._file.seek(0, 2)
        self._file.write(packed)
        return offset, len(packed)

    def get(self, spot: tuple[int, int]) -> bytes:
        self._file.seek(spot[0])
        return self._file.read(spot[1])

    def __enter__(self) -> _Spill:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._file.close()


@dataclass(frozen=True, slots=True)
class _Kept:
    """The copy of an article a run keeps: what ordering and deciding what to redo need, and where the
    packed article waits. Made from _KeptCopies' columns when needed (a batch's worth at a time)."""

    published: datetime
    article_id: str
    offset: int
    length: int
    source: str
    updated: datetime | None
    content_digest: bytes
    paragraphs_digest: bytes
    parser_version: str

    @property
    def day(self) -> date:
        return self.published.date()  # the lake partition (see article_rows)

    @property
    def spot(self) -> tuple[int, int]:
        return self.offset, self.length

    @property
    def content_hash(self) -> str:
        return self.content_digest.hex()

    @property
    def paragraphs_hash(self) -> str:
        return self.paragraphs_digest.hex()


_NO_TIME = -(2**63)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class _KeptCopies:
    """The copy of each article of one source a run keeps, in columns: one per article of the archive, held
    from the scan until the store (100,000 at 100,000 articles). The Python objects of an article are its id
    and its dict entry; times, spill positions, digests and parser versions are array entries (~150 bytes an
    article where a record object per article took ~500, measured 2026-12-06; and a small long-lived object
    per article, made between the scan's short-lived ones, kept their freed memory from being reused)."""

    def __init__(self, source: str) -> None:
        self.source = sys.intern(source)
        self._row_of: dict[str, int] = {}
        self._ids: list[str] = []
        #: Per row: published (microseconds since the epoch, UTC offset in microseconds), then updated (or
        #: _NO_TIME twice): the instant orders and compares, the offset keeps the day the article was dated.
        self._times = array("q")
        self._spots = array("q")  # per row: spill offset, length
        self._digests = bytearray()  # per row: content SHA-256, paragraphs SHA-256
        self._parser_of_row = array("l")
        self._parsers: dict[str, int] = {}  # parser version -> its index in _parser_names
        self._parser_names: list[str] = []

    def __len__(self) -> int:
        return len(self._ids)

    def get(self, article_id: str) -> _Kept | None:
        row = self._row_of.get(article_id)
        return None if row is None else self.kept(row)

    def put(self, kept: _Kept) -> None:
        """Keep `kept` as its article's copy (in place of the one kept so far, if any)."""
        times = [*_micros(kept.published), *(_micros(kept.updated) if kept.updated else (_NO_TIME, _NO_TIME))]
        digests = kept.content_digest + kept.paragraphs_digest
        if len(digests) != 64:
            raise ValueError(f"{kept.article_id}: digests of {len(digests)} bytes, expected two SHA-256")
        parser = self._parsers.get(kept.parser_version)
        if parser is None:
            parser = self._parsers[kept.parser_version] = len(self._parser_names)
            self._parser_names.append(kept.parser_version)
        row = self._row_of.get(kept.article_id)
        if row is None:
            self._row_of[kept.article_id] = len(self._ids)
            self._ids.append(kept.article_id)
            self._times.extend(times)
            self._spots.extend((kept.offset, kept.length))
            self._digests += digests
            self._parser_of_row.append(parser)
            return
        self._times[4 * row : 4 * row + 4] = array("q", times)
        self._spots[2 * row : 2 * row + 2] = array("q", (kept.offset, kept.length))
        self._digests[64 * row : 64 * row + 64] = digests
        self._parser_of_row[row] = parser

    def kept(self, row: int) -> _Kept:
        published, published_offset, updated, updated_offset = self._times[4 * row : 4 * row + 4]
        digests = bytes(self._digests[64 * row : 64 * row + 64])
        parser = self._parser_names[self._parser_of_row[row]]
        return _Kept(
            _moment(published, published_offset),
            self._ids[row],
            self._spots[2 * row],
            self._spots[2 * row + 1],
            self.source,
            None if updated == _NO_TIME else _moment(updated, updated_offset),
            digests[:32],
            digests[32:],
            parser,
        )

    def take_oldest_first(self) -> Iterator[_Kept]:
        """Every kept copy, by publication time then article id, once the scan is over: the lookup by id is
        let go (the lake's index of stored articles grows while the copies are stored)."""
        self._row_of = {}
        times, ids = self._times, self._ids
        order = array("q", sorted(range(len(ids)), key=lambda row: (times[4 * row], ids[row])))
        return (self.kept(row) for row in order)


def _micros(moment: datetime) -> tuple[int, int]:
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"{moment.isoformat()} is not timezone-aware")
    return (moment - _EPOCH) // _MICROSECOND, offset // _MICROSECOND


def _moment(micros: int, offset: int) -> datetime:
    return (_EPOCH + micros * _MICROSECOND).astimezone(timezone(offset * _MICROSECOND))


@dataclass(frozen=True, slots=True)
class _StoredArticle:
    content_hash: str | None
    paragraphs_hash: str | None
    parser_version: str | None
    model_version: str | None
    published: datetime | None
    updated: datetime | None
    payload_digest: str | None
    published_date: date | None


#: Payload digest -> (article id, stored article, whether the run's window holds it) of the stored articles a
#: response need not be parsed for.
_CurrentParses = dict[str, tuple[str, _StoredArticle, bool]]


@dataclass
class StoreCounts:
    """What storing batches did, beside the lake's own counts."""

    written: WriteCounts = field(default_factory=WriteCounts)
    #: Articles whose stored copy already had this content, parser and model: nothing written.
    unchanged: int = 0
    #: Articles stored again with the labels they had (same paragraphs, same model).
    labels_reused: int = 0
    #: Articles sent to the model.
    labelled: int = 0

    def __iadd__(self, other: StoreCounts) -> StoreCounts:
        self.written += other.written
        self.unchanged += other.unchanged
        self.labels_reused += other.labels_reused
        self.labelled += other.labelled
        return self


@dataclass
class ReprocessBatch:
    """Articles of whole days, labelled (or being labelled) and ready to store in one lake upsert; stored once
    (`store` empties it)."""

    lake: Lake
    #: Callables that wait for a labelling job's rows (the jobs already run in the workers).
    labelled: list[Callable[[], tuple[Columns, Columns]]]
    #: Rows built from what was stored (same paragraphs, same model).
    reused: Rows
    counts: StoreCounts

    def store(self) -> StoreCounts:
        """Upsert the batch's rows; the batch lets go of them (and of the labelling jobs' futures, which hold
        their results) as it takes them: Prefect keeps a task's parameters alive until its flow run ends
        (checked with weak references; 30 tasks given 20 MB each held 600 MB), and a stored batch must not
        keep its rows with it."""
        parts = [self.reused]
        self.reused = _NO_ROWS
        while self.labelled:
            article_columns, paragraph_columns = self.labelled.pop(0)()
            parts.append((rows_table(article_columns, ARTICLE_ROWS), rows_table(paragraph_columns, PARAGRAPH_ROWS)))
        articles = pa.concat_tables([article_part for article_part, _ in parts])
        paragraphs = pa.concat_tables([paragraph_part for _, paragraph_part in parts])
        del parts
        counts = StoreCounts(
            unchanged=self.counts.unchanged, labels_reused=self.counts.labels_reused, labelled=self.counts.labelled
        )
        if articles.num_rows:
            counts.written = self.lake.upsert(articles, paragraphs, replace_unchanged=True)
        return counts


def store_directly(batch: ReprocessBatch) -> StoreCounts:
    return batch.store()


@dataclass
class _SourceRun:
    source: str
    spill: _Spill
    responses: int = 0
    #: Responses not parsed: a stored article parsed from the same bytes by today's parser is current.
    not_reparsed: int = 0
    not_article: int = 0
    out_of_window: int = 0
    corrupt: int = 0
    best: _KeptCopies = field(init=False)
    articles: int = 0  # len(best) once the scan is done
    failures: list[Failure] = field(default_factory=list)
    counts: StoreCounts = field(default_factory=StoreCounts)

    def __post_init__(self) -> None:
        self.best = _KeptCopies(self.source)

    def as_row(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "responses": self.responses,
            "not_reparsed": self.not_reparsed,
            "articles": self.articles,
            "not_article": self.not_article,
            "out_of_window": self.out_of_window,
            "new": self.counts.written.new,
            "updated": self.counts.written.updated,
            "unchanged": self.counts.unchanged,
            "labels_reused": self.counts.labels_reused,
            "labelled": self.counts.labelled,
            "failed": len(self.failures),
            "corrupt_records": self.corrupt,
            "paragraphs": self.counts.written.paragraphs_written,
        }


def run_reprocess(
    settings: Settings,
    window: Window,
    sources: Sequence[str],
    model: StanceLabeller | ModelRef,
    *,
    hosts: Sequence[str] = (),
    fetched_since: datetime | None = None,
    fetched_until: datetime | None = None,
    run_id: str | None = None,
    run_batch: Callable[[ReprocessBatch], StoreCounts] = store_directly,
    batch_articles: int = BATCH_ARTICLES,
    spill_dir: str | None = None,
    workers: int | None = None,
    on_pages: Callable[[int], None] | None = None,
    reparse: bool = False,
) -> list[dict[str, Any]]:
    """Reprocess the archived pages of `sources` published in `window`; one summary row per source.

    `model` is best a `ModelRef`: the workers then load it themselves, and only if there is an article to
    label. `hosts` adds hosts the pages were fetched from besides the sources' domains (a mirror, the offline
    sample); `fetched_since`/`fetched_until` narrow the archive scan to a fetch-time range. `run_batch`
    stores one batch (the flow passes its Prefect task); `spill_dir` is where parsed articles wait
    (default: the system's temporary directory); `workers` overrides `settings.workers` (0: no worker
    processes, everything in this one). `on_pages` hears how many archived pages each parse job read (the
    CLI's progress bar). `reparse`: parse every response, also those whose stored article is current (after
    a change of the screening limits, `Settings.max_paragraphs` and the like, which no parser version says).
    """
    _use_returning_memory_pool()
    lake = Lake(settings.lake_url)
    run_id = run_id or f"reprocess-{uuid.uuid4()}"
    scan = _ScanRange(window, tuple(hosts), fetched_since, fetched_until)
    workers = settings.workers if workers is None else workers
    rows = []
    with WorkerPool(workers, model=model, raw_url=settings.raw_url, lake_url=settings.lake_url) as pool:
        for name in sources:
            source = get_source(name)
            with _Spill(spill_dir) as spill:
                run = _SourceRun(source=source.name, spill=spill)
                stored = _stored_articles(lake, source.name)
                current = {} if reparse else _current_parses(stored, model.version, source.parser_versions(), window)
                _scan(run, source, pool, settings, lake, scan, current, on_pages)
                del current
                _store(run, lake, pool, model.version, stored, run_batch, batch_articles, settings.batch_size)
            lake.append_failures(run.failures, run_id)
            rows.append(run.as_row())
    return rows


def _use_returning_memory_pool() -> None:
    """Arrow buffers of this process from the system allocator rather than pyarrow's default (mimalloc),
    whose per-thread heaps keep what the lake reads and writes freed: reading the raw index and storing
    10,000 articles left this process ~45 MB larger (measured 2026-12-06), more as the archive grows. The
    reprocess keeps a run's memory flat; its Arrow work is a few large buffers, which malloc serves as well.
    """
    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


@dataclass(frozen=True)
class _ScanRange:
    window: Window  # publication times
    hosts: tuple[str, ...]  # fetched from besides the source's domains
    fetched_since: datetime | None
    fetched_until: datetime | None


def _store(
    run: _SourceRun,
    lake: Lake,
    pool: WorkerPool,
    model_version: str,
    stored: dict[tuple[str, str], _StoredArticle],
    run_batch: Callable[[ReprocessBatch], StoreCounts],
    batch_articles: int,
    label_batch: int,
) -> None:
    """Label (or reuse labels of) the kept articles and store them, a batch of whole days at a time."""
    run.articles = len(run.best)
    batches = (
        _prepare(lake, run.spill, batch, stored, model_version, pool, label_batch)
        for batch in _whole_days(run.best.take_oldest_first(), batch_articles)
    )
    for batch in _one_ahead(batches):
        run.counts += run_batch(batch)


def _scan(
    run: _SourceRun,
    source: Source,
    pool: WorkerPool,
    settings: Settings,
    lake: Lake,
    scan: _ScanRange,
    current: _CurrentParses,
    on_pages: Callable[[int], None] | None = None,
) -> None:
    """Parse every archived response of the source in the workers (but those `current` stands for); keep
    the copy an ingest would keep."""
    domains = [*source.allowed_domains, *scan.hosts]
    with ArchiveReader(settings.raw_url, lake) as reader:
        jobs = (
            ParseJob(source.name, chunk, settings, _known_rows(chunk, current))
            for rows in reader.response_rows(scan.fetched_since, scan.fetched_until, domains)
            for chunk in iter_batches(rows, PARSE_ROWS_PER_JOB)
        )
        for answer in pool.map(parse_job, jobs):
            for problem in answer.problems:
                log.warning("archive record skipped: %s", problem)
                run.corrupt += 1
                run.failures.append(Failure(f"{problem.file}#{problem.offset}", source.name, "archive", str(problem)))
            if on_pages is not None:
                on_pages(len(answer.pages) + len(answer.problems))
            for page in answer.pages:
                if page.known_digest is not None:
                    # In its place in fetch order: which copy is kept depends on the order copies come in.
                    run.responses += 1
                    run.not_reparsed += 1
                    _consider_stored(run, *current[page.known_digest])
                    continue
                if page.not_article:
                    run.not_article += 1
                    continue
                run.responses += 1
                if page.failure is not None:
                    run.failures.append(page.failure)
                elif page.article is not None:
                    _consider(run, page.article, scan.window)


def _current_parses(
    stored: dict[tuple[str, str], _StoredArticle],
    model_version: str,
    parser_versions: frozenset[str],
    window: Window,
) -> _CurrentParses:
    """The stored articles a response with the same payload need not be parsed for: parsed by one of today's
    parsers (of its layouts) and labelled by today's model, so the same bytes give the same article and a
    reprocess would leave it as it is. Articles stored before payload digests were kept are parsed again.

    The lake keeps the publication instant (UTC) and the printed day, not the printed UTC offset, which the
    window needs for a story printed with a date only (`Window.placed`): an article the window would hold at
    its instant but not at midnight of its printed day, or the other way round, is parsed again."""
    current: _CurrentParses = {}
    for (_source, article_id), article in stored.items():
        if (
            article.payload_digest is None
            or article.published is None
            or article.published_date is None
            or article.content_hash is None
            or article.paragraphs_hash is None
            or article.parser_version not in parser_versions
            or article.model_version != model_version
        ):
            continue
        midnight = datetime.combine(article.published_date, datetime.min.time(), tzinfo=window.start.tzinfo)
        held = window.start <= article.published < window.end
        if held == (window.start <= midnight < window.end):  # wherever `Window.placed` puts it
            current[article.payload_digest] = (article_id, article, held)
    return current


def _known_rows(rows: list[dict[str, Any]], current: _CurrentParses) -> frozenset[int]:
    return frozenset(
        position for position, row in enumerate(rows) if row["status"] == 200 and row["payload_digest"] in current
    )


def _consider_stored(run: _SourceRun, article_id: str, stored: _StoredArticle, in_window: bool) -> None:
    """`_consider` for a response the stored article stands for (see `_current_parses`)."""
    assert stored.published is not None and stored.content_hash and stored.paragraphs_hash and stored.parser_version
    hashes = stored.content_hash, stored.paragraphs_hash
    _offer(run, in_window, article_id, stored.published, stored.updated, *hashes, stored.parser_version, None)


def _consider(run: _SourceRun, parked: ParkedArticle, window: Window) -> None:
    if parked.source != run.best.source:
        raise ValueError(f"{parked.article_id}: parsed as {parked.source!r} in a run of {run.best.source!r}")
    hashes = parked.content_hash, parked.paragraphs_hash
    times = parked.published, parked.updated
    in_window = window.contains(parked.published)
    _offer(run, in_window, parked.article_id, *times, *hashes, parked.parser_version, parked.packed)


def _offer(
    run: _SourceRun,
    in_window: bool,
    article_id: str,
    published: datetime,
    updated: datetime | None,
    content_hash: str,
    paragraphs_hash: str,
    parser_version: str,
    packed: bytes | None,
) -> None:
    """Keep this copy of the article if an ingest would (the rule of pipeline.replaces, on the hashes the
    worker computed). `packed`: the parsed article, spilled if kept; None for the stored article itself."""
    if not in_window:
        run.out_of_window += 1
        return
    current = run.best.get(article_id)
    if current is None or replaces_stored(current.content_hash, current.updated, content_hash, updated):
        offset, length = (_STORED_COPY, 0) if packed is None else run.spill.put(packed)
        digests = bytes.fromhex(content_hash), bytes.fromhex(paragraphs_hash)
        run.best.put(_Kept(published, article_id, offset, length, run.best.source, updated, *digests, parser_version))


def _whole_days(oldest_first: Iterable[_Kept], size: int) -> Iterator[list[_Kept]]:
    """Batches of about `size` articles, oldest first, that end at a day's end, so a partition is written by
    one upsert (a day of more than four batches' worth is cut, to bound memory)."""
    batch: list[_Kept] = []
    for kept in oldest_first:
        if len(batch) >= size and (kept.day != batch[-1].day or len(batch) >= 4 * size):
            yield batch
            batch = []
        batch.append(kept)
    if batch:
        yield batch


def _one_ahead(batches: Iterator[ReprocessBatch]) -> Iterator[ReprocessBatch]:
    """Prepare (and so start labelling) the next batch before the current one is handed out to be stored."""
    current = next(batches, None)
    while current is not None:
        following = next(batches, None)
        yield current
        current = following


def _stored_articles(lake: Lake, source: str) -> dict[tuple[str, str], _StoredArticle]:
    """What the lake holds of the source's articles: enough to tell what a reprocess must redo."""
    table = lake.read("articles", filter=pc.field("source") == source, columns=_STORED_COLUMNS)
    columns = table.to_pydict()
    return {
        (s, a): _StoredArticle(*rest) for s, a, *rest in zip(*(columns[name] for name in _STORED_COLUMNS), strict=True)
    }


def _prepare(
    lake: Lake,
    spill: _Spill,
    batch: list[_Kept],
    stored: dict[tuple[str, str], _StoredArticle],
    model_version: str,
    pool: WorkerPool,
    label_batch: int,
) -> ReprocessBatch:
    """Sort a batch's articles into unchanged, labels reused and to label; start the labelling jobs."""
    counts = StoreCounts()
    to_label: list[bytes] = []
    reuse: list[Parsed] = []
    for kept in batch:
        before = stored.get((kept.source, kept.article_id))
        if kept.offset == _STORED_COPY:
            # The stored article itself (`_current_parses`): same content, parser and model by construction.
            counts.unchanged += 1
            continue
        if before is None or before.model_version != model_version:
            to_label.append(spill.get(kept.spot))  # packed as it is: only the worker opens it
        elif before.content_hash == kept.content_hash and before.parser_version == kept.parser_version:
            counts.unchanged += 1
        elif before.paragraphs_hash == kept.paragraphs_hash:
            reuse.append(unpack(spill.get(kept.spot)))
        else:
            to_label.append(spill.get(kept.spot))
    counts.labelled = len(to_label)
    counts.labels_reused = len(reuse)
    labelled = [pool.submit(label_job, chunk) for chunk in iter_batches(to_label, label_batch)]
    return ReprocessBatch(lake, labelled, _reused_rows(lake, reuse, model_version), counts)


class _StoredLabels:
    """A labeller that answers with the labels an article's paragraphs already have in the lake."""

    def __init__(self, version: str, paragraphs: pa.Table) -> None:
        self.version = version
        self.labels = paragraphs["label"].to_pylist()
        self.confidence = paragraphs["confidence"].to_numpy(zero_copy_only=False)
        self.probabilities = pa.table({c: paragraphs[c] for c in PROBABILITY_COLUMNS}).to_pandas().to_numpy()

    def predict(self, texts: Sequence[str]) -> _StoredLabels:
        if len(texts) != len(self.labels):
            raise ValueError(f"{len(texts)} paragraphs to label, {len(self.labels)} stored")
        return self


def _reused_rows(lake: Lake, reuse: list[Parsed], model_version: str) -> Rows:
    """Rows for articles whose paragraphs and model are unchanged: fresh article fields, stored labels."""
    if not reuse:
        return _NO_ROWS
    keys = pa.table({"source": [a.source for a, _ in reuse], "article_id": [a.article_id for a, _ in reuse]})
    days = sorted({article.published.date() for article, _ in reuse})
    stored = lake.read("paragraphs", filter=pc.field("published_date").isin(pa.array(days, pa.date32())))
    stored = stored.join(keys, ["source", "article_id"], join_type="inner").sort_by(
        [("source", "ascending"), ("article_id", "ascending"), ("para_index", "ascending")]
    )
    positions: dict[tuple[str, str], list[int]] = {}
    for position, key in enumerate(zip(stored["source"].to_pylist(), stored["article_id"].to_pylist(), strict=True)):
        positions.setdefault(key, []).append(position)
    # The topic flag was decided with the labels: it is reused with them.
    topics = {
        (row["source"], row["article_id"]): (row["on_topic"], row["topic_score"])
        for row in lake.read(
            "articles",
            filter=pc.field("published_date").isin(pa.array(days, pa.date32())),
            columns=["source", "article_id", "on_topic", "topic_score"],
        ).to_pylist()
    }
    articles: list[dict[str, Any]] = []
    paragraphs: list[dict[str, Any]] = []
    for article, fetched_at in reuse:
        mine = stored.take(pa.array(positions.get((article.source, article.article_id), []), pa.int64()))
        article_part, paragraph_part = article_rows([(article, fetched_at)], _StoredLabels(model_version, mine))
        for row in article_part:
            row["on_topic"], row["topic_score"] = topics.get((article.source, article.article_id), (None, None))
        articles += article_part
        paragraphs += paragraph_part
    return rows_table(articles, ARTICLE_ROWS), rows_table(paragraphs, PARAGRAPH_ROWS)
