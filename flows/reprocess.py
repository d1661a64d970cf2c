"""The `reprocess` flow: parse and label again what the raw archive holds, with today's parsers and champion.

It reads only the lake (`raw_index`) and the WARC files: no request leaves the machine. For every article
of the source published in the window it picks the copy an ingest would have kept (fetch order, a changed
content replaces the stored one unless its update time is older), and replaces those articles in the
lake (`replace_unchanged`), so new parser or model versions land even where the content is the same.

Memory does not grow with the archive: parsed articles wait in a temporary spill file (only their sort keys
and file positions stay in memory) until every copy has been seen; then they are labelled and stored in
publication order, in batches of whole days (one `reprocess-batch` Prefect task and one lake upsert each),
so every lake partition is written once.
"""

from __future__ import annotations

import logging
import pickle
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from wirestance.archive.reader import ArchivedResponse, ArchiveReader
from wirestance.articles import Article, NotAnArticle
from wirestance.discovery.types import failure
from wirestance.fetch import decode_body
from wirestance.flows import ingest as ingest_flows
from wirestance.lake import Lake, WriteCounts
from wirestance.lake.store import iter_batches
from wirestance.pipeline import StanceLabeller, Window, article_rows, content_hash
from wirestance.settings import Settings
from wirestance.sources import enabled_source_names, get_source
from wirestance.sources.base import Source

log = logging.getLogger(__name__)

Parsed = tuple[Article, datetime]
#: Articles per stored batch (one Prefect task, one lake upsert), rounded up to a whole day.
BATCH_ARTICLES = 1000


class _Spill:
    """Parsed articles parked in a temporary file (compressed pickles) until they are labelled and stored."""

    def __init__(self, directory: str | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=directory, prefix="wirestance-reprocess-")  # noqa: SIM115

    def put(self, parsed: Parsed) -> tuple[int, int]:
        """Store one parsed article; its (offset, length) in the file."""
        data = zlib.compress(pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL), 1)
        offset = self._file.seek(0, 2)
        self._file.write(data)
        return offset, len(data)

    def get(self, spot: tuple[int, int]) -> Parsed:
        self._file.seek(spot[0])
        parsed: Parsed = pickle.loads(zlib.decompress(self._file.read(spot[1])))
        return parsed

    def __enter__(self) -> _Spill:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._file.close()


@dataclass(frozen=True, slots=True)
class _Kept:
    """The copy of an article a run keeps: what ordering needs, and where the parsed article waits."""

    published: datetime
    article_id: str
    spot: tuple[int, int]

    @property
    def day(self) -> date:
        return self.published.date()  # the lake partition (see article_rows)


@dataclass(frozen=True)
class ReprocessBatch:
    """Articles of whole days, to label and store in one lake upsert."""

    lake: Lake
    spill: _Spill
    spots: list[tuple[int, int]]
    model: StanceLabeller
    #: Articles per model call (the ingest's batch size, so predictions are made the same way).
    label_batch: int

    def store(self) -> WriteCounts:
        parsed = [self.spill.get(spot) for spot in self.spots]
        articles: list[dict[str, Any]] = []
        paragraphs: list[dict[str, Any]] = []
        for chunk in iter_batches(parsed, self.label_batch):
            article_part, paragraph_part = article_rows(chunk, self.model)
            articles += article_part
            paragraphs += paragraph_part
        return self.lake.upsert(articles, paragraphs, replace_unchanged=True)


def store_directly(batch: ReprocessBatch) -> WriteCounts:
    return batch.store()


@task(name="reprocess-batch", cache_policy=NO_CACHE)
def store_batch_task(batch: ReprocessBatch) -> WriteCounts:
    """Label and store one batch of whole days."""
    return batch.store()


@dataclass
class _SourceRun:
    source: str
    spill: _Spill
    responses: int = 0
    not_article: int = 0
    out_of_window: int = 0
    best: dict[tuple[str, str], _Kept] = field(default_factory=dict)
    articles: int = 0  # len(best) once the scan is done and `best` is let go
    failures: list[dict[str, Any]] = field(default_factory=list)
    counts: WriteCounts = field(default_factory=WriteCounts)

    def as_row(self, corrupt: int) -> dict[str, Any]:
        return {
            "source": self.source,
            "responses": self.responses,
            "articles": self.articles,
            "not_article": self.not_article,
            "out_of_window": self.out_of_window,
            "new": self.counts.new,
            "updated": self.counts.updated,
            "failed": len(self.failures),
            "corrupt_records": corrupt,
            "paragraphs": self.counts.paragraphs_written,
        }


def run_reprocess(
    settings: Settings,
    window: Window,
    sources: Sequence[str],
    model: StanceLabeller,
    *,
    hosts: Sequence[str] = (),
    fetched_since: datetime | None = None,
    fetched_until: datetime | None = None,
    run_id: str | None = None,
    run_batch: Callable[[ReprocessBatch], WriteCounts] = store_directly,
    batch_articles: int = BATCH_ARTICLES,
    spill_dir: str | None = None,
) -> list[dict[str, Any]]:
    """Reprocess the archived pages of `sources` published in `window`; one summary row per source.

    `hosts` adds hosts the pages were fetched from besides the sources' domains (a mirror, the offline
    sample); `fetched_since`/`fetched_until` narrow the archive scan to a fetch-time range. `run_batch`
    stores one batch (the flow passes its Prefect task); `spill_dir` is where parsed articles wait
    (default: the system's temporary directory).
    """
    lake = Lake(settings.lake_url)
    run_id = run_id or f"reprocess-{uuid.uuid4()}"
    rows = []
    for name in sources:
        source = get_source(name)
        with _Spill(spill_dir) as spill:
            run = _SourceRun(source=source.name, spill=spill)
            with ArchiveReader(settings.raw_url, lake) as reader:
                domains = [*source.allowed_domains, *hosts]
                for response in reader.responses(fetched_since, fetched_until, domains):
                    _consider(run, source, response, window)
                for problem in reader.problems:
                    log.warning("archive record skipped: %s", problem)
                    where = f"{problem.file}#{problem.offset}"
                    run.failures.append(failure(where, source.name, "archive", str(problem)))
            newest_first = sorted(run.best.values(), key=lambda kept: (kept.published, kept.article_id), reverse=True)
            run.articles = len(run.best)
            run.best.clear()
            for batch in _whole_days(newest_first, batch_articles):
                spots = [kept.spot for kept in batch]
                run.counts += run_batch(ReprocessBatch(lake, spill, spots, model, settings.batch_size))
        lake.append_failures(run.failures, run_id)
        rows.append(run.as_row(len(reader.problems)))
    return rows


def _whole_days(newest_first: list[_Kept], size: int) -> Iterator[list[_Kept]]:
    """Batches of about `size` articles, oldest first, that end at a day's end, so a partition is written by
    one upsert (a day of more than four batches' worth is cut, to bound memory). The list is consumed from
    its end, so what stored batches kept is freed as the lake's index of stored articles grows."""
    batch: list[_Kept] = []
    while newest_first:
        kept = newest_first.pop()
        if len(batch) >= size and (kept.day != batch[-1].day or len(batch) >= 4 * size):
            yield batch
            batch = []
        batch.append(kept)
    if batch:
        yield batch


def _consider(run: _SourceRun, source: Source, response: ArchivedResponse, window: Window) -> None:
    if source.article_id(response.url) is None:
        run.not_article += 1  # feeds, robots.txt, index pages
        return
    run.responses += 1
    try:
        html = decode_body(response.body, response.declared_charset)
        article = source.parse(html, url=response.url)
    except NotAnArticle as exc:
        run.failures.append(failure(response.url, source.name, "parse", str(exc)))
        return
    except Exception as exc:  # a parser bug must not sink the run; it is recorded with its type
        log.exception("parser crashed on %s", response.url)
        run.failures.append(failure(response.url, source.name, "parse", f"{response.url}: {type(exc).__name__}: {exc}"))
        return
    if response.capture_time is not None:
        article = replace(article, capture_time=response.capture_time, capture_origin=response.capture_origin)
    if not window.contains(article.published):
        run.out_of_window += 1
        return
    key = (article.source, article.article_id)
    current = run.best.get(key)
    if current is None or _replaces(run.spill.get(current.spot)[0], article):
        spot = run.spill.put((article, response.fetched_at))
        run.best[key] = _Kept(article.published, article.article_id, spot)


def _replaces(stored: Article, later: Article) -> bool:
    """The ingest's rule for a later fetch of a stored article (see Lake.upsert)."""
    if content_hash(later) == content_hash(stored):
        return False
    return not (later.updated is not None and stored.updated is not None and later.updated < stored.updated)


@flow(name="reprocess", log_prints=True)
def reprocess(
    start: datetime,
    end: datetime,
    sources: list[str] | None = None,
    hosts: list[str] | None = None,
    fetched_since: datetime | None = None,
    fetched_until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Parse and label again, from the raw archive, the articles published in [start, end)."""
    settings = Settings.from_env()
    window = Window(_aware(start), _aware(end))
    model = ingest_flows.champion_model(settings)
    rows = run_reprocess(
        settings,
        window,
        sources or enabled_source_names(),
        model,
        hosts=hosts or (),
        fetched_since=_aware(fetched_since) if fetched_since else None,
        fetched_until=_aware(fetched_until) if fetched_until else None,
        run_id=str(flow_run.id or uuid.uuid4()),
        run_batch=store_batch_task,
    )
    create_table_artifact(
        key="reprocess-summary",
        table=rows,
        description=f"Reprocess {window.start.isoformat()} -> {window.end.isoformat()} from the raw archive",
    )
    print(f"reprocess summary: {rows}")
    return rows


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
