"""Lake writes per article: the Delta Lake tables (`Lake.upsert`) against the earlier layout's way of writing,
measured in the same run on the same rows.

The earlier layout kept one parquet file per day partition and, for every upsert, read that day's file,
replaced the rows of the batch's keys and wrote the whole file again (then renamed it over the old one). The
floor here does exactly that work (read, replace by key, write whole, fsync, rename), without its locks.

Scenario: a lake already holding `history_days` days of `per_day` articles, then scheduled-ingest batches of
`batch` articles, most of them new on the latest days and a fifth of them updates of stored ones.

Growth: a lake made from empty by upserts of `growth_batch` articles with random ids over `growth_days` days (a
reprocess or backfill: every upsert touches every day), a fifth of them updates. The per-article cost of the
last upserts against the first ones shows whether a write's cost follows the table's size (a key look-up that
reads every file) or only what it touches.
"""

from __future__ import annotations

import os
import random
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.results import Results
from wirestance.lake import Lake
from wirestance.lake.schema import ARTICLES, PARAGRAPHS, PROBABILITY_COLUMNS

FIRST_DAY = date(2019, 10, 1)


def _article(i: int, day: date, version: int) -> tuple[dict, list[dict]]:
    published = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    n = 8
    row = {
        "source": "anadolu",
        "article_id": str(1_000_000 + i),
        "url": f"https://www.aa.com.tr/en/politics/x/{1_000_000 + i}",
        "canonical_url": f"https://www.aa.com.tr/en/politics/x/{1_000_000 + i}",
        "title": f"title {i} v{version}",
        "lede": "A lede of moderate length that says what the story is about." * 2,
        "authors": ["A. Writer"],
        "published": published,
        "updated": published + timedelta(minutes=version),
        "dateline": "ANKARA",
        "category": "Politics",
        "tags": ["tag"],
        "language": "en",
        "n_paragraphs": n,
        "content_hash": f"{i}-{version}",
        "fetched_at": published,
        "capture_time": None,
        "capture_origin": None,
        "parser_version": "bench",
        "schema_version": 2,
        "published_date": day,
    }
    paragraphs = [
        {
            "source": "anadolu",
            "article_id": row["article_id"],
            "para_index": k,
            "text": f"Paragraph {k} of article {i}, version {version}. " + "Some words of a news story. " * 12,
            "label": "none",
            "confidence": 0.7,
            **dict.fromkeys(PROBABILITY_COLUMNS, 0.25),
            "model_version": "bench",
            "parser_version": "bench",
            "schema_version": 2,
        }
        for k in range(n)
    ]
    return row, paragraphs


def _batches(history_days: int, per_day: int, batches: int, batch: int, seed: int) -> tuple[list, list]:
    """(history upserts, timed upserts): each a list of (articles, paragraphs)."""
    rng = random.Random(seed)
    history = []
    stored: list[tuple[int, date]] = []
    next_id = 0
    for d in range(history_days):
        day = FIRST_DAY + timedelta(days=d)
        rows = [_article(next_id + k, day, 0) for k in range(per_day)]
        stored += [(next_id + k, day) for k in range(per_day)]
        next_id += per_day
        history.append(([r for r, _ in rows], [p for _, ps in rows for p in ps]))
    timed = []
    latest = FIRST_DAY + timedelta(days=history_days)
    for b in range(batches):
        rows = []
        for _ in range(batch):
            if rng.random() < 0.2:
                i, day = rng.choice(stored)
                rows.append(_article(i, day, b + 1))
            else:
                day = latest + timedelta(days=rng.randrange(2))
                rows.append(_article(next_id, day, 0))
                stored.append((next_id, day))
                next_id += 1
        timed.append(([r for r, _ in rows], [p for _, ps in rows for p in ps]))
    return history, timed


class _EarlierLayout:
    """The earlier layout's write path: per day, read the partition file, replace the keys, write it whole."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def upsert(self, articles: list[dict], paragraphs: list[dict]) -> None:
        by_day: dict[date, list[dict]] = defaultdict(list)
        for row in articles:
            by_day[row["published_date"]].append(row)
        paragraphs_by_key: dict[str, list[dict]] = defaultdict(list)
        for p in paragraphs:
            paragraphs_by_key[p["article_id"]].append(p)
        for day, rows in by_day.items():
            keys = pa.array([r["article_id"] for r in rows], pa.string())
            fresh_articles = pa.Table.from_pylist(
                [{k: v for k, v in r.items() if k != "published_date"} for r in rows], schema=ARTICLES
            )
            fresh_paragraphs = pa.Table.from_pylist(
                [p for r in rows for p in paragraphs_by_key[r["article_id"]]], schema=PARAGRAPHS
            )
            for table, fresh, schema in (
                ("paragraphs", fresh_paragraphs, PARAGRAPHS),
                ("articles", fresh_articles, ARTICLES),
            ):
                folder = self.root / table / f"published_date={day.isoformat()}"
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / "part-0.parquet"
                if path.exists():
                    current = pq.read_table(path, schema=schema)
                    kept = current.filter(pc.invert(pc.is_in(current["article_id"], value_set=keys)))
                    fresh = pa.concat_tables([kept, fresh])
                tmp = folder / ".part-0.parquet.tmp"
                with open(tmp, "wb") as handle:
                    pq.write_table(fresh, handle, compression="zstd")
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, path)


def _growth_batches(batches: int, batch: int, days: int, seed: int) -> list:
    """Upserts with random article ids (statistics prune nothing) on random days, a fifth of them updates."""
    rng = random.Random(seed)
    stored: list[tuple[int, date]] = []
    upserts = []
    for b in range(batches):
        rows = []
        for _ in range(batch):
            if stored and rng.random() < 0.2:
                i, day = rng.choice(stored)
                rows.append(_article(i, day, b + 1))
            else:
                i, day = rng.randrange(10**9), FIRST_DAY + timedelta(days=rng.randrange(days))
                stored.append((i, day))
                rows.append(_article(i, day, 0))
        upserts.append(([r for r, _ in rows], [p for _, ps in rows for p in ps]))
    return upserts


def _growth(make, where: Path, upserts: list) -> list[float]:
    """CPU seconds (this process, all threads) of each upsert into a lake growing from empty (`where`: a new
    folder; lakes are left for the sandbox's removal, see e2e.run_once)."""
    writer = make(where)
    spent = []
    for rows, paragraphs in upserts:
        started = time.process_time()
        writer.upsert(rows, paragraphs)
        spent.append(time.process_time() - started)
    return spent


def _timed_writes(make, where: Path, history: list, timed: list) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all its threads) of the timed upserts (`where`: a new
    folder, as in `_growth`)."""
    writer = make(where)
    for rows, paragraphs in history:
        writer.upsert(rows, paragraphs)
    started, cpu_started = time.perf_counter(), time.process_time()
    for rows, paragraphs in timed:
        writer.upsert(rows, paragraphs)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return seconds, cpu_seconds


def run(
    results: Results,
    root: Path,
    repeats: int = 1,
    history_days: int = 30,
    per_day: int = 100,
    batches: int = 20,
    growth_batches: int = 20,
    growth_batch: int = 500,
    growth_days: int = 100,
) -> None:
    """Both writers `repeats` times, alternating, the best of each kept (a shared machine's load hits the
    multi-threaded Delta writer harder than the single-threaded floor)."""
    batches = min(batches, max(5, history_days * per_day // 150))
    history, timed = _batches(history_days, per_day, batches, batch=50, seed=0)
    articles = sum(len(a) for a, _ in timed)
    writers = {"earlier": _EarlierLayout, "delta": lambda p: Lake(str(p))}
    seconds = dict.fromkeys(writers, float("inf"))
    cpu_seconds = dict.fromkeys(writers, float("inf"))
    for attempt in range(max(1, repeats)):
        for name, make in writers.items():
            wall, cpu = _timed_writes(make, root / f"lake-bench-{name}-{attempt}", history, timed)
            seconds[name], cpu_seconds[name] = min(seconds[name], wall), min(cpu_seconds[name], cpu)
    results.note(
        f"lake writes: {len(timed)} upserts of 50 articles (8 paragraphs each, a fifth updates) into a lake of "
        f"{history_days * per_day:,} articles, best of {max(1, repeats)}: Delta {seconds['delta']:.2f} s, "
        f"earlier layout {seconds['earlier']:.2f} s"
    )
    results.add("lake_write_ms_per_article", 1000 * seconds["delta"] / articles)
    results.add("lake_write_ms_per_article_earlier_layout", 1000 * seconds["earlier"] / articles)
    # Above 1: the Delta lake writes faster per article than the earlier layout did.
    results.add("lake_write_ratio_vs_earlier_layout", seconds["earlier"] / seconds["delta"])
    # The same in CPU time: the earlier layout's wall time includes waiting for fsync, which a busy disk
    # stretches; CPU time compares the work alone (above 1: the Delta writes use less CPU).
    results.add("lake_write_cpu_ratio_vs_earlier_layout", cpu_seconds["earlier"] / cpu_seconds["delta"])

    _run_growth(results, root, repeats, growth_batches, growth_batch, growth_days)


def _run_growth(results: Results, root: Path, repeats: int, batches: int, batch: int, days: int) -> None:
    upserts = _growth_batches(batches, batch, days, seed=1)
    writers = {"earlier": _EarlierLayout, "delta": lambda p: Lake(str(p))}
    best: dict[str, list[float]] = {}
    for attempt in range(max(1, repeats)):
        for name, make in writers.items():
            spent = _growth(make, root / f"lake-growth-{name}-{attempt}", upserts)
            best[name] = [min(a, b) for a, b in zip(best.get(name, spent), spent, strict=True)]
    window = max(1, batches // 4)
    # The first upsert (an empty lake, the tables made) is left out of the early window.
    early = {name: sum(spent[1 : 1 + window]) / (window * batch) for name, spent in best.items()}
    late = {name: sum(spent[-window:]) / (window * batch) for name, spent in best.items()}
    stored = int(batch * 0.8 * batches)
    results.note(
        f"lake growth: {batches} upserts of {batch} articles (random ids, {days} days, a fifth updates) into a lake "
        f"growing from empty to ~{stored:,} articles, CPU ms per article, best of {max(1, repeats)}: Delta "
        f"{1000 * early['delta']:.2f} early -> {1000 * late['delta']:.2f} late; earlier layout "
        f"{1000 * early['earlier']:.2f} -> {1000 * late['earlier']:.2f}"
    )
    # CPU ms per article of the last quarter of the upserts (a table ~10x the size of the early ones').
    results.add("lake_write_cpu_ms_per_article_at_10x_table", 1000 * late["delta"])
    results.add("lake_write_cpu_ms_per_article_at_10x_table_earlier_layout", 1000 * late["earlier"])
    # Near 1: an upsert costs what it touches, not the table's size (the key look-up is bounded).
    results.add("lake_write_growth_late_vs_early", late["delta"] / early["delta"])
    results.add("lake_write_growth_late_vs_early_earlier_layout", late["earlier"] / early["earlier"])
