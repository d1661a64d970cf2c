"""The lake: upserts by key, atomic partition replacement, readable by pandas and DuckDB."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from wirestance.lake import Lake
from wirestance.lake.schema import PROBABILITY_COLUMNS


def article(article_id: str, day: date, *, content: str = "v1", updated: datetime | None = None) -> dict:
    published = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    return {
        "source": "anadolu",
        "article_id": article_id,
        "url": f"https://www.aa.com.tr/en/politics/x/{article_id}",
        "canonical_url": f"https://www.aa.com.tr/en/politics/x/{article_id}",
        "title": f"title {article_id} {content}",
        "lede": None,
        "authors": ["A"],
        "published": published,
        "updated": updated or published,
        "dateline": "ANKARA",
        "category": "Politics",
        "tags": [],
        "language": "en",
        "n_paragraphs": 2,
        "content_hash": f"{article_id}-{content}",
        "fetched_at": datetime.now(UTC),
        "capture_time": None,
        "capture_origin": None,
        "parser_version": "test",
        "schema_version": 1,
        "published_date": day,
    }


def paragraphs(article_id: str, content: str = "v1", n: int = 2) -> list[dict]:
    return [
        {
            "source": "anadolu",
            "article_id": article_id,
            "para_index": i,
            "text": f"{article_id} paragraph {i} {content}",
            "label": "none",
            "confidence": 0.9,
            **dict.fromkeys(PROBABILITY_COLUMNS, 0.25),
            "model_version": "m1",
            "parser_version": "test",
            "schema_version": 1,
        }
        for i in range(n)
    ]


DAY = date(2019, 11, 26)


def test_rerun_is_idempotent(tmp_path: Path):
    lake = Lake(str(tmp_path))
    first = lake.upsert([article("1", DAY), article("2", DAY)], paragraphs("1") + paragraphs("2"))
    second = Lake(str(tmp_path)).upsert([article("1", DAY), article("2", DAY)], paragraphs("1") + paragraphs("2"))
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 2)
    assert lake.read("articles").num_rows == 2
    assert lake.read("paragraphs").num_rows == 4


def test_newer_update_replaces_and_stale_copy_does_not(tmp_path: Path):
    lake = Lake(str(tmp_path))
    t0 = datetime(2019, 11, 26, 9, tzinfo=UTC)
    lake.upsert([article("1", DAY, updated=t0)], paragraphs("1", n=3))
    newer = lake.upsert([article("1", DAY, content="v2", updated=t0 + timedelta(hours=2))], paragraphs("1", "v2", 2))
    stale = lake.upsert([article("1", DAY, content="v0", updated=t0 - timedelta(hours=1))], paragraphs("1", "v0", 5))
    assert newer.updated == 1 and stale.unchanged == 1
    texts = sorted(lake.read("paragraphs").column("text").to_pylist())
    assert texts == ["1 paragraph 0 v2", "1 paragraph 1 v2"]  # the third old paragraph is gone too
    assert lake.read("articles").column("title").to_pylist() == ["title 1 v2"]


def test_article_whose_date_changed_leaves_its_old_partition(tmp_path: Path):
    lake = Lake(str(tmp_path))
    lake.upsert([article("1", DAY)], paragraphs("1"))
    lake.upsert([article("1", DAY + timedelta(days=1), content="v2")], paragraphs("1", "v2"))
    table = lake.read("articles")
    assert table.num_rows == 1
    assert table.column("published_date").to_pylist() == [DAY + timedelta(days=1)]
    assert lake.read("paragraphs").num_rows == 2


def test_hive_layout_readable_by_pandas_and_duckdb(tmp_path: Path):
    duckdb = pytest.importorskip("duckdb")
    import pandas as pd

    lake = Lake(str(tmp_path))
    lake.upsert([article("1", DAY), article("2", DAY + timedelta(days=3))], paragraphs("1") + paragraphs("2"))
    assert (tmp_path / "articles" / "published_date=2019-11-26" / "part-0.parquet").is_file()
    frame = pd.read_parquet(tmp_path / "paragraphs")
    assert len(frame) == 4
    counts = duckdb.sql(
        f"SELECT published_date, count(*) AS n FROM read_parquet('{tmp_path}/articles/*/*.parquet', "
        "hive_partitioning = true) GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [n for _, n in counts] == [1, 1]


def test_failed_write_leaves_the_old_partition_whole(tmp_path: Path, monkeypatch):
    lake = Lake(str(tmp_path))
    lake.upsert([article("1", DAY)], paragraphs("1"))

    def broken_write(table, where, **kwargs):
        where.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken_write)
    with pytest.raises(OSError, match="disk full"):
        Lake(str(tmp_path)).upsert([article("2", DAY)], paragraphs("2"))
    monkeypatch.undo()
    assert Lake(str(tmp_path)).read("articles").column("article_id").to_pylist() == ["1"]


def test_sigkill_during_writes_leaves_a_readable_lake(tmp_path: Path):
    """A writer killed at a random moment: every file that readers see is whole, and a rerun completes."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_lake import article, paragraphs, DAY
        from wirestance.lake import Lake
        lake = Lake({str(tmp_path)!r})
        i = 0
        while True:
            i += 1
            lake.upsert([article(str(i % 50), DAY, content=str(i))], paragraphs(str(i % 50), str(i), 20))
            if i == 3:
                print("writing", flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    import time

    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    lake = Lake(str(tmp_path))
    articles = lake.read("articles")
    ids = articles.column("article_id").to_pylist()
    assert len(ids) == len(set(ids)) > 0
    rerun = lake.upsert([article("1", DAY, content="final")], paragraphs("1", "final"))
    assert rerun.updated + rerun.new == 1
    assert lake.read("articles").num_rows == len(ids) + rerun.new


def test_failures_are_appended_per_run(tmp_path: Path):
    lake = Lake(str(tmp_path))
    row = {
        "url": "u",
        "source": "anadolu",
        "stage": "parse",
        "reason": "u: not an article",
        "failed_at": datetime.now(UTC),
    }
    lake.append_failures([row], "run-1")
    lake.append_failures([row], "run-2")
    assert sorted(lake.read("failures").column("run_id").to_pylist()) == ["run-1", "run-2"]


def test_lake_on_an_fsspec_url():
    """Any fsspec filesystem works: here the in-memory one (object stores take the same code path)."""
    lake = Lake("memory://wirestance-test-lake")
    try:
        lake.upsert([article("1", DAY)], paragraphs("1"))
        lake.upsert([article("1", DAY, content="v2")], paragraphs("1", "v2"))
        assert lake.read("articles").column("title").to_pylist() == ["title 1 v2"]
        assert lake.read("paragraphs").num_rows == 2
        assert lake.fs.exists("/wirestance-test-lake/articles/published_date=2019-11-26/part-0.parquet")
    finally:
        lake.fs.rm("/wirestance-test-lake", recursive=True)
