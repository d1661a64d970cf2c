"""Migration: a lake in the earlier layout (one hive parquet file per day partition) becomes Delta tables."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from lake_rows import versioned

from wirestance.lake import Lake
from wirestance.lake import schema as lake_schema
from wirestance.lake.migrate import migrate


def write_old_layout(root: Path, n: int = 30) -> None:
    """Files as the earlier lake wrote them: <table>/<column>=<day>/part-0.parquet, the day only in the
    folder name, plus a lock folder and a temporary file a killed writer left behind."""
    articles: dict[str, list[dict]] = defaultdict(list)
    paragraphs: dict[str, list[dict]] = defaultdict(list)
    for i in range(n):
        row, paras = versioned(f"a{i:03d}", i)
        day = row.pop("published_date").isoformat()
        articles[day].append(row)
        paragraphs[day].extend(paras)
    for table, by_day in (("articles", articles), ("paragraphs", paragraphs)):
        for day, rows in by_day.items():
            folder = root / table / f"published_date={day}"
            folder.mkdir(parents=True)
            data = pa.Table.from_pylist(rows, schema=lake_schema.TABLES[table])
            pq.write_table(data, folder / "part-0.parquet", compression="zstd")
            (folder / ".part-0.parquet.tmp-deadbeef").write_bytes(b"PAR1 half a file")
    failure = {"url": "u", "source": "anadolu", "stage": "parse", "reason": "r", "run_id": "run-1", "schema_version": 1}
    failure["failed_at"] = datetime(2019, 11, 26, 10, tzinfo=UTC)
    folder = root / "failures" / "failed_date=2019-11-26"
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([failure, failure], schema=lake_schema.FAILURES), folder / "run-1-abc.parquet")
    (root / "_locks").mkdir()
    (root / "_locks" / "published_date=2019-11-26.lock").touch()


def test_migration_converts_in_place_and_is_idempotent(tmp_path: Path):
    write_old_layout(tmp_path)
    lake = Lake(str(tmp_path))
    reports = {r.table: r for r in migrate(lake)}
    assert (reports["articles"].status, reports["articles"].rows_before, reports["articles"].rows_after) == (
        "converted",
        30,
        30,
    )
    assert reports["paragraphs"].rows_after == sum(1 + i % 4 for i in range(30))
    assert (reports["failures"].status, reports["failures"].rows_after) == ("converted", 2)
    assert reports["raw_index"].status == "absent"
    assert not (tmp_path / "_locks").exists()
    articles = lake.read("articles")
    assert articles.schema.field("published_date").type == pa.date32()
    assert articles.schema == lake.full_schema("articles")

    again = {r.table: r for r in migrate(lake)}
    assert again["articles"].status == "already-delta" and again["articles"].rows_after == 30
    assert lake.version("articles") == 0

    # The migrated lake takes upserts with today's rule: a newer version replaces, moving its date.
    row, paras = versioned("a001", 14)
    counts = lake.upsert([row], paras)
    assert counts.updated == 1
    stored = lake.read("articles").to_pylist()
    assert len(stored) == 30
    assert {r["content_hash"] for r in stored if r["article_id"] == "a001"} == {"a001-v14"}
    texts = [p["text"] for p in lake.read("paragraphs").to_pylist() if p["article_id"] == "a001"]
    assert sorted(texts) == sorted(p["text"] for p in paras)


def test_a_table_of_an_older_schema_gets_the_new_columns(tmp_path: Path):
    """Columns added to the schema module since a table was made are added to it on the next write; its
    old rows (and old versions) read them as nulls."""
    old_articles = pa.schema([f for f in lake_schema.ARTICLES if f.name not in ("paragraphs_hash", "model_version")])
    write_old_layout(tmp_path, n=3)
    folder = tmp_path / "articles"
    for path in folder.rglob("part-0.parquet"):
        pq.write_table(pq.read_table(path).select(old_articles.names), path)
    lake = Lake(str(tmp_path))
    migrate(lake)
    assert "model_version" not in lake.delta_table("articles").schema().to_arrow().names
    assert lake.read("articles").column("model_version").null_count == 3
    row, paras = versioned("a001", 9)
    row = {**row, "model_version": "m9", "paragraphs_hash": "h"}
    assert lake.upsert([row], paras).updated == 1
    stored = {r["article_id"]: r["model_version"] for r in lake.read("articles").to_pylist()}
    assert stored == {"a000": None, "a001": "m9", "a002": None}
    assert Lake(str(tmp_path), as_of=0).read("articles").column("model_version").null_count == 3
