"""The `reprocess` flow: parse and label again what the raw archive holds, with today's parsers and champion.

It reads only the lake (`raw_index`) and the WARC files: no request leaves the machine. For every article
of the source published in the window it picks the copy an ingest would have kept (fetch order, a changed
content replaces the stored one unless its update time is older), and replaces those articles in the
lake (`replace_unchanged`), so new parser or model versions land even where the content is the same.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact
from prefect.runtime import flow_run

from flows import ingest as ingest_flows
from wirestance.archive.reader import ArchivedResponse, ArchiveReader
from wirestance.articles import Article, NotAnArticle
from wirestance.discovery.types import failure
from wirestance.fetch import decode_body
from wirestance.lake import Lake, WriteCounts
from wirestance.lake.store import iter_batches
from wirestance.pipeline import StanceLabeller, Window, article_rows, content_hash
from wirestance.settings import Settings
from wirestance.sources import get_source
from wirestance.sources.base import Source

log = logging.getLogger(__name__)

Parsed = tuple[Article, datetime]


@dataclass
class _SourceRun:
    source: str
    responses: int = 0
    not_article: int = 0
    out_of_window: int = 0
    best: dict[tuple[str, str], Parsed] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    counts: WriteCounts = field(default_factory=WriteCounts)

    def as_row(self, corrupt: int) -> dict[str, Any]:
        return {
            "source": self.source,
            "responses": self.responses,
            "articles": len(self.best),
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
) -> list[dict[str, Any]]:
    """Reprocess the archived pages of `sources` published in `window`; one summary row per source.

    `hosts` adds hosts the pages were fetched from besides the sources' domains (a mirror, the offline
    sample); `fetched_since`/`fetched_until` narrow the archive scan to a fetch-time range.
    """
    lake = Lake(settings.lake_url)
    run_id = run_id or f"reprocess-{uuid.uuid4()}"
    rows = []
    for name in sources:
        source = get_source(name)
        run = _SourceRun(source=source.name)
        with ArchiveReader(settings.raw_url, lake) as reader:
            domains = [*source.allowed_domains, *hosts]
            for response in reader.responses(fetched_since, fetched_until, domains):
                _consider(run, source, response, window)
            for problem in reader.problems:
                log.warning("archive record skipped: %s", problem)
                run.failures.append(failure(f"{problem.file}#{problem.offset}", source.name, "archive", str(problem)))
        ordered = sorted(run.best.values(), key=lambda parsed: (parsed[0].published, parsed[0].article_id))
        for batch in iter_batches(ordered, settings.batch_size):
            articles, paragraphs = article_rows(batch, model)
            run.counts += lake.upsert(articles, paragraphs, replace_unchanged=True)
        lake.append_failures(run.failures, run_id)
        rows.append(run.as_row(len(reader.problems)))
    return rows


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
    if current is None or _replaces(current[0], article):
        run.best[key] = (article, response.fetched_at)


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
        sources or ["anadolu"],
        model,
        hosts=hosts or (),
        fetched_since=_aware(fetched_since) if fetched_since else None,
        fetched_until=_aware(fetched_until) if fetched_until else None,
        run_id=str(flow_run.id or uuid.uuid4()),
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
