"""The lake: upserts by key as Delta Lake commits, readable by pandas, Polars and DuckDB, time travel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from lake_rows import DAY, T0, article, paragraphs

from wirestance.lake import Lake, ReadOnlyLakeError, schema
from wirestance.lake import store as lake_store


def test_rerun_is_idempotent(tmp_path: Path):
    lake = Lake(str(tmp_path))
    first = lake.upsert([article("1", DAY), article("2", DAY)], paragraphs("1") + paragraphs("2"))
    version = lake.version("articles")
    second = Lake(str(tmp_path)).upsert([article("1", DAY), article("2", DAY)], paragraphs("1") + paragraphs("2"))
    assert (first.new, first.updated, first.unchanged, first.paragraphs_written) == (2, 0, 0, 4)
    assert (second.new, second.updated, second.unchanged, second.paragraphs_written) == (0, 0, 2, 0)
    assert lake.version("articles") == version  # unchanged rows are left alone: no commit at all
    assert lake.read("articles").num_rows == 2
    assert lake.read("paragraphs").num_rows == 4


def test_an_article_given_twice_in_one_upsert_is_stored_once_with_its_last_paragraphs(tmp_path: Path):
    lake = Lake(str(tmp_path))
    later = T0 + timedelta(hours=1)
    counts = lake.upsert(
        [article("1", DAY), article("1", DAY, content="v2", updated=later), article("2", DAY)],
        paragraphs("1", n=3) + paragraphs("2") + paragraphs("1", "v2"),
    )
    assert (counts.new, counts.paragraphs_written) == (2, 4)
    assert sorted(lake.read("articles").column("content_hash").to_pylist()) == ["1-v2", "2-v1"]
    texts = sorted(lake.read("paragraphs").column("text").to_pylist())
    assert texts == ["1 paragraph 0 v2", "1 paragraph 1 v2", "2 paragraph 0 v1", "2 paragraph 1 v1"]


def test_rows_given_as_arrow_tables_or_column_lists_are_stored_as_the_same_rows_given_as_dicts(tmp_path: Path):
    """What a reprocess stores: tables of its workers' rows (or their column lists). Column order and missing
    columns do not matter, days out of order are grouped into one file per day, and the last copy of an
    article still wins."""
    later = T0 + timedelta(hours=1)
    next_day = DAY + timedelta(days=1)
    articles = [article("1", next_day), article("2", DAY), article("1", next_day, content="v2", updated=later)]
    texts = paragraphs("1", n=3) + paragraphs("2") + paragraphs("1", "v2")
    as_dicts, as_tables = Lake(str(tmp_path / "dicts")), Lake(str(tmp_path / "tables"))
    by_dicts = as_dicts.upsert(articles, texts)
    article_table = pa.Table.from_pylist(articles, schema=schema.ARTICLE_ROWS).drop_columns(["lede"])
    paragraph_table = pa.Table.from_pylist(texts, schema=schema.PARAGRAPH_ROWS)
    reversed_articles = article_table.select(article_table.column_names[::-1])
    by_tables = as_tables.upsert(reversed_articles, paragraph_table.select(paragraph_table.column_names[::-1]))
    assert by_tables == by_dicts and (by_tables.new, by_tables.paragraphs_written) == (2, 4)
    as_columns = Lake(str(tmp_path / "columns"))  # one list per column, every column of the schema
    by_columns = as_columns.upsert(
        {name: [row.get(name) for row in articles] for name in schema.ARTICLE_ROWS.names},
        {name: [row.get(name) for row in texts] for name in schema.PARAGRAPH_ROWS.names},
    )
    assert by_columns == by_dicts
    for table, key in (("articles", ["article_id"]), ("paragraphs", ["article_id", "para_index"])):
        order = [(name, "ascending") for name in key]
        assert as_tables.read(table).sort_by(order).equals(as_dicts.read(table).sort_by(order))
        assert as_columns.read(table).sort_by(order).equals(as_dicts.read(table).sort_by(order))
    days = sorted(as_tables.read("paragraphs").column("published_date").to_pylist())
    assert days == [DAY, DAY, next_day, next_day]
    files = {path.parent.name for path in (tmp_path / "tables" / "paragraphs").glob("published_date=2*/*.parquet")}
    assert files == {f"published_date={DAY}", f"published_date={next_day}"}


def test_rows_as_dicts_column_lists_or_a_table_make_the_same_table():
    rows = [article("1", DAY), article("2", DAY, content="v2")]
    wanted = schema.ARTICLE_ROWS
    columns = {name: [row.get(name) for row in rows] for name in wanted.names}
    expected = schema.rows_table(rows, wanted)
    assert expected.num_rows == 2 and expected.schema.equals(wanted)
    assert schema.rows_table(columns, wanted).equals(expected)
    assert schema.rows_table(expected.select(expected.column_names[::-1]), wanted).equals(expected)


def test_an_article_row_without_its_date_is_refused_whole(tmp_path: Path):
    lake = Lake(str(tmp_path))
    undated = {**article("2", DAY), "published_date": None}
    with pytest.raises(ValueError, match="article anadolu/2: a row to store needs content_hash and published_date"):
        lake.upsert([article("1", DAY), undated], paragraphs("1") + paragraphs("2"))
    assert lake.version("articles") is None


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


def test_reprocess_replaces_unchanged_content(tmp_path: Path):
    lake = Lake(str(tmp_path))
    lake.upsert([article("1", DAY)], paragraphs("1"))
    relabelled = [{**p, "model_version": "m2"} for p in paragraphs("1")]
    counts = lake.upsert([article("1", DAY)], relabelled, replace_unchanged=True)
    assert (counts.updated, counts.paragraphs_written) == (1, 2)
    assert set(lake.read("paragraphs").column("model_version").to_pylist()) == {"m2"}


def test_article_whose_date_changed_leaves_its_old_partition(tmp_path: Path):
    lake = Lake(str(tmp_path))
    lake.upsert([article("1", DAY)], paragraphs("1"))
    lake.upsert([article("1", DAY + timedelta(days=1), content="v2")], paragraphs("1", "v2"))
    table = lake.read("articles")
    assert table.num_rows == 1
    assert table.column("published_date").to_pylist() == [DAY + timedelta(days=1)]
    stored = lake.read("paragraphs")
    assert stored.num_rows == 2
    assert set(stored.column("published_date").to_pylist()) == {DAY + timedelta(days=1)}
    assert lake.partitions("articles") == [DAY + timedelta(days=1)]


def test_published_date_reads_back_as_a_date(tmp_path: Path):
    lake = Lake(str(tmp_path))
    lake.upsert([article("1", DAY)], paragraphs("1"))
    for table in ("articles", "paragraphs"):
        assert lake.read(table).schema.field("published_date").type == pa.date32()
        assert lake.delta_table(table).to_pandas()["published_date"].iloc[0] == DAY


def test_readers_pandas_polars_duckdb(tmp_path: Path):
    """The README's queries: every reader goes through the Delta log, so a superseded copy is never seen."""
    duckdb = pytest.importorskip("duckdb")
    pl = pytest.importorskip("polars")
    from deltalake import DeltaTable

    lake = Lake(str(tmp_path))
    lake.upsert([article("1", DAY), article("2", DAY + timedelta(days=3))], paragraphs("1") + paragraphs("2"))
    lake.upsert([article("1", DAY, content="v2", updated=datetime(2019, 11, 27, tzinfo=UTC))], paragraphs("1", "v2"))

    frame = DeltaTable(str(tmp_path / "paragraphs")).to_pandas()
    assert len(frame) == 4 and sorted(frame.text)[0] == "1 paragraph 0 v2"
    filtered = DeltaTable(str(tmp_path / "articles")).to_pandas(filters=[("article_id", "=", "1")])
    assert filtered.title.tolist() == ["title 1 v2"]

    articles = pl.read_delta(str(tmp_path / "articles"))
    assert sorted(articles["title"].to_list()) == ["title 1 v2", "title 2 v1"]
    assert articles.schema["published_date"] == pl.Date

    paragraphs_ds = DeltaTable(str(tmp_path / "paragraphs")).to_pyarrow_dataset()
    articles_ds = DeltaTable(str(tmp_path / "articles")).to_pyarrow_dataset()
    con = duckdb.connect()
    con.register("paragraphs", paragraphs_ds)
    con.register("articles", articles_ds)
    rows = con.sql(
        "SELECT a.published_date, p.label, count(*) AS n FROM paragraphs p "
        "JOIN articles a USING (source, article_id) WHERE a.title LIKE 'title%' GROUP BY 1, 2 ORDER BY 1"
    ).fetchall()
    assert rows == [(DAY, "none", 2), (DAY + timedelta(days=3), "none", 2)]


def test_plain_parquet_readers_see_superseded_files(tmp_path: Path):
    """What the README warns about: the data files alone hold every version not yet vacuumed."""
    import pandas as pd

    lake = Lake(str(tmp_path))
    lake.upsert([article("1", DAY)], paragraphs("1"))
    lake.upsert([article("1", DAY, content="v2", updated=datetime(2019, 11, 27, tzinfo=UTC))], paragraphs("1", "v2"))
    assert len(pd.read_parquet(tmp_path / "articles")) == 2  # the old copy too
    assert lake.read("articles").num_rows == 1


def test_history_reads_the_lake_as_it_was(tmp_path: Path):
    lake = Lake(str(tmp_path))
    lake.upsert([article("1", DAY)], paragraphs("1"))
    first = lake.version("articles")
    time.sleep(0.05)
    between = datetime.now(UTC)
    time.sleep(0.05)
    relabelled = [{**p, "label": "us_objection", "model_version": "m2"} for p in paragraphs("1")]
    lake.upsert([article("1", DAY)], relabelled, replace_unchanged=True)
    assert set(lake.read("paragraphs").column("label").to_pylist()) == {"us_objection"}
    for as_of in (first, between):
        past = Lake(str(tmp_path), as_of=as_of)
        assert set(past.read("paragraphs").column("label").to_pylist()) == {"none"}
        assert past.read("articles").num_rows == 1
        with pytest.raises(ReadOnlyLakeError):
            past.upsert([article("2", DAY)], paragraphs("2"))
    before_anything = Lake(str(tmp_path), as_of=datetime(2000, 1, 1, tzinfo=UTC))
    assert before_anything.read("articles").num_rows == 0


def test_killed_between_the_two_commits_the_next_run_completes(tmp_path: Path, monkeypatch):
    """The article committed, the writer died before its paragraphs: a reader sees the article without
    paragraphs (never the reverse); the next upsert of it finds them stale and writes them."""
    lake = Lake(str(tmp_path))
    lake.upsert([article("1", DAY)], paragraphs("1", n=3))

    def died(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(Lake, "_write_paragraphs", died)
    with pytest.raises(KeyboardInterrupt):
        lake.upsert([article("1", DAY + timedelta(days=1), content="v2")], paragraphs("1", "v2", 2))
    monkeypatch.undo()
    assert lake.read("articles").column("title").to_pylist() == ["title 1 v2"]
    assert lake.read("paragraphs").num_rows == 3  # the old ones, still on the old day
    rerun = lake.upsert([article("1", DAY + timedelta(days=1), content="v2")], paragraphs("1", "v2", 2))
    assert (rerun.unchanged, rerun.paragraphs_written) == (1, 2)
    stored = lake.read("paragraphs")
    assert sorted(stored.column("text").to_pylist()) == ["1 paragraph 0 v2", "1 paragraph 1 v2"]
    assert set(stored.column("published_date").to_pylist()) == {DAY + timedelta(days=1)}


def test_sigkill_during_writes_leaves_a_readable_lake(tmp_path: Path):
    """A writer killed at a random moment: the table reads, no key twice, and a rerun completes every article."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from lake_rows import article, paragraphs, DAY
        from wirestance.lake import Lake
        lake = Lake({str(tmp_path)!r})
        i = 0
        while True:
            i += 1
            batch = [str((i * 7 + k) % 30) for k in range(5)]
            lake.upsert([article(a, DAY, content=str(i)) for a in batch],
                        [p for a in batch for p in paragraphs(a, str(i), 1 + i % 5)])
            if i == 3:
                print("writing", flush=True)
        """
    )
    for kill_after in (0.3, 0.9, 1.7):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        time.sleep(kill_after)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        lake = Lake(str(tmp_path))
        ids = lake.read("articles").column("article_id").to_pylist()
        assert len(ids) == len(set(ids)) > 0
        keys = paragraphs_by_article(lake)
        assert all(n > 0 for n in keys.values())  # paragraphs only of stored articles ...
        assert set(keys) <= set(ids)
    final = [str(k) for k in range(30)]
    lake.upsert(
        [article(a, DAY, content="final") for a in final], [p for a in final for p in paragraphs(a, "final", 3)]
    )
    assert lake.read("articles").num_rows == 30
    texts = lake.read("paragraphs").column("text").to_pylist()
    assert len(texts) == 90 and all(t.endswith("final") for t in texts)


def paragraphs_by_article(lake: Lake) -> dict[str, int]:
    counts: dict[str, int] = {}
    for article_id in lake.read("paragraphs").column("article_id").to_pylist():
        counts[article_id] = counts.get(article_id, 0) + 1
    return counts


def test_conflicting_commits_are_retried_with_backoff(tmp_path: Path, monkeypatch):
    """A commit that loses the race is retried (re-reading the table), never dropped."""
    from deltalake.exceptions import CommitFailedError

    lake = Lake(str(tmp_path))
    real = lake_store.DeltaTable.create_write_transaction
    failures = iter([True, True, False, False, False])
    sleeps: list[float] = []

    def flaky(*args, **kwargs):
        if next(failures, False):
            raise CommitFailedError("a concurrent transaction deleted data this operation read")
        return real(*args, **kwargs)

    monkeypatch.setattr(lake_store.DeltaTable, "create_write_transaction", flaky)
    monkeypatch.setattr(lake_store.time, "sleep", sleeps.append)
    counts = lake.upsert([article("1", DAY)], paragraphs("1"))
    assert (counts.new, counts.paragraphs_written) == (1, 2)
    assert len(sleeps) == 2 and all(0 <= s <= lake_store.BACKOFF_CAP for s in sleeps)
    assert lake.read("articles").num_rows == 1


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
    stored = lake.read("failures")
    assert sorted(stored.column("run_id").to_pylist()) == ["run-1", "run-2"]
    assert stored.schema.field("failed_date").type == pa.date32()
    assert stored.column("failed_date").to_pylist() == [row["failed_at"].date()] * 2


def test_raw_index_rows_of_a_file_are_replaced_not_duplicated(tmp_path: Path):
    lake = Lake(str(tmp_path))
    row = {
        "url": "https://www.aa.com.tr/en/x/1",
        "canonical_url": "https://www.aa.com.tr/en/x/1",
        "host": "www.aa.com.tr",
        "fetch_time": datetime(2019, 11, 26, 10, tzinfo=UTC),
        "status": 200,
        "content_type": "text/html",
        "payload_digest": "sha1:X",
        "record_type": "response",
        "record_id": "<urn:uuid:1>",
        "file": "2019-11-26/a.warc.gz",
        "offset": 0,
        "length": 10,
    }
    for _ in range(2):
        lake.put_raw_index([row, {**row, "offset": 10}], DAY, "a")
    lake.put_raw_index([{**row, "file": "2019-11-26/b.warc.gz"}], DAY, "b")
    assert lake.read("raw_index").num_rows == 3


def test_labelled_data_read_from_the_lake_skips_superseded_files(tmp_path: Path):
    """`retrain` may train on the lake's paragraphs: it reads the Delta table, not every parquet file."""
    from wirestance.classifiers.dataset import load_labeled_data

    lake = Lake(str(tmp_path))
    lake.upsert([article("1", DAY)], paragraphs("1"))
    lake.upsert([article("1", DAY, content="v2", updated=datetime(2019, 11, 27, tzinfo=UTC))], paragraphs("1", "v2"))
    assert sorted(load_labeled_data(tmp_path / "paragraphs").texts) == ["1 paragraph 0 v2", "1 paragraph 1 v2"]


def test_a_commit_between_the_articles_and_the_paragraphs_is_seen(tmp_path: Path, monkeypatch):
    """An upsert decides its paragraphs from its own articles commit only while no other commit followed it:
    here another writer stores a newer copy in between, and the first one must leave that copy's paragraphs."""
    lake, other = Lake(str(tmp_path)), Lake(str(tmp_path))
    lake.upsert([article("1", DAY)], paragraphs("1"))
    write_articles = Lake._write_articles

    def then_a_newer_copy(self: Lake, *args, **kwargs):
        result = write_articles(self, *args, **kwargs)
        if self is lake:
            later = T0 + timedelta(hours=2)
            other.upsert([article("1", DAY, content="v3", updated=later)], paragraphs("1", "v3", 3))
        return result

    monkeypatch.setattr(Lake, "_write_articles", then_a_newer_copy)
    counts = lake.upsert([article("1", DAY, content="v2", updated=T0 + timedelta(hours=1))], paragraphs("1", "v2"))
    assert (counts.updated, counts.paragraphs_written) == (1, 0)
    assert lake.read("articles").column("content_hash").to_pylist() == ["1-v3"]
    assert sorted(lake.read("paragraphs").column("text").to_pylist()) == [f"1 paragraph {i} v3" for i in range(3)]


def test_upserts_keep_statistics_of_the_key_and_time_columns_only(tmp_path: Path):
    """Tables made before the statistics setting (here: made bare) get it on their next write; look-ups and
    replace-wheres still prune data files by the keys' statistics."""
    from deltalake import DeltaTable

    lake = Lake(str(tmp_path))
    DeltaTable.create(lake.table_uri("articles"), lake.full_schema("articles"), partition_by=["published_date"])
    lake.upsert([article(str(i), DAY) for i in range(3)], [p for i in range(3) for p in paragraphs(str(i))])
    for table, columns in (
        ("articles", "source,article_id,published,updated"),
        ("paragraphs", "source,article_id,para_index"),
    ):
        dt = lake.delta_table(table)
        assert dt is not None
        assert dt.metadata().configuration["delta.dataSkippingStatsColumns"] == columns
        stats = {
            name.split(".", 1)[1] for name in dt.get_add_actions(flatten=True).schema.names if name.startswith("min.")
        }
        assert stats == set(columns.split(","))
    again = lake.upsert([article("1", DAY, content="v2")], paragraphs("1", "v2"))
    assert (again.updated, again.paragraphs_written) == (1, 2)
    assert lake.read("articles").num_rows == 3


def test_two_writers_inserting_one_new_article_on_different_dates_conflict(tmp_path: Path, monkeypatch):
    """The second writer decides on a snapshot from before the first one's insert (the article is new to it)
    and puts it on another day: the two commits share no data file, yet the second conflicts (both swap the
    table's marker), retries on the new version and replaces the article: one copy, on the newer date."""
    first, second = Lake(str(tmp_path)), Lake(str(tmp_path))
    first.upsert([article("0", DAY)], paragraphs("0"))
    stale = second._writable("articles")  # the second writer's snapshot: before "x" exists
    first.upsert([article("x", DAY)], paragraphs("x"))
    real = lake_store.DeltaTable.update_incremental
    skipped: list[object] = []

    def stale_once(self):  # as if the second writer had read just before the first one's commit
        if self is stale and not skipped:
            skipped.append(self)
            return None
        return real(self)

    monkeypatch.setattr(lake_store.DeltaTable, "update_incremental", stale_once)
    newer = article("x", DAY + timedelta(days=1), content="v2", updated=T0 + timedelta(hours=1))
    counts = second.upsert([newer], paragraphs("x", "v2"))
    assert skipped and (counts.new, counts.updated) == (0, 1)  # counted new on the stale snapshot, then retried
    rows = [r for r in Lake(str(tmp_path)).read("articles").to_pylist() if r["article_id"] == "x"]
    assert [(r["content_hash"], r["published_date"]) for r in rows] == [("x-v2", DAY + timedelta(days=1))]
    texts = sorted(r["text"] for r in Lake(str(tmp_path)).read("paragraphs").to_pylist() if r["article_id"] == "x")
    assert texts == ["x paragraph 0 v2", "x paragraph 1 v2"]


def test_key_look_ups_follow_other_writers_and_compaction(tmp_path: Path):
    """A writer's key index follows commits made by others (and a compaction that rewrites every file) by
    the files they added and removed: an unchanged copy is still recognised, an older one still refused."""
    from wirestance.lake.maintain import maintain

    mine, other = Lake(str(tmp_path)), Lake(str(tmp_path))
    mine.upsert([article("a", DAY)], paragraphs("a"))
    other.upsert([article("b", DAY + timedelta(days=1))], paragraphs("b"))
    maintain(other, retention_hours=0)
    other.upsert([article("a", DAY, content="v2", updated=T0 + timedelta(hours=2))], paragraphs("a", "v2"))
    counts = mine.upsert(
        [article("a", DAY, content="v1"), article("b", DAY + timedelta(days=1)), article("c", DAY)],
        paragraphs("a") + paragraphs("b") + paragraphs("c"),
    )
    assert (counts.new, counts.updated, counts.unchanged, counts.paragraphs_written) == (1, 0, 2, 2)
    stored = {r["article_id"]: r["content_hash"] for r in mine.read("articles").to_pylist()}
    assert stored == {"a": "a-v2", "b": "b-v1", "c": "c-v1"}


def test_own_commits_are_learned_from_what_was_written_and_others_are_read(tmp_path: Path, monkeypatch):
    """A writer's key index takes its own commits from the files it wrote (no file read back, no log refresh
    right after the commit); a commit by another writer right after one of them is noticed and read."""
    mine, other = Lake(str(tmp_path)), Lake(str(tmp_path))
    mine.upsert([article("a", DAY), article("b", DAY)], paragraphs("a") + paragraphs("b"))
    read_back: list[str] = []
    learn_rows = lake_store._KeyIndex.learn_rows

    def spy(self, path, *args):
        read_back.append(path)
        return learn_rows(self, path, *args)

    monkeypatch.setattr(lake_store._KeyIndex, "learn_rows", spy)
    later = T0 + timedelta(hours=1)
    counts = mine.upsert(
        [article("a", DAY, content="v2", updated=later), article("c", DAY + timedelta(days=1))],
        paragraphs("a", "v2", 3) + paragraphs("c"),
    )
    again = mine.upsert(
        [article("a", DAY, content="v2", updated=later), article("b", DAY)], paragraphs("a", "v2", 3) + paragraphs("b")
    )
    assert (counts.new, counts.updated, again.unchanged, again.paragraphs_written) == (1, 1, 2, 0)
    assert read_back == []
    other.upsert([article("b", DAY, content="v3", updated=later)], paragraphs("b", "v3"))
    stale = mine.upsert([article("b", DAY)], paragraphs("b"))
    assert stale.unchanged == 1 and read_back  # the other writer's files were read to learn its commit
    stored = {r["article_id"]: r["content_hash"] for r in Lake(str(tmp_path)).read("articles").to_pylist()}
    assert stored == {"a": "a-v2", "b": "b-v3", "c": "c-v1"}
    texts = sorted(r["text"] for r in Lake(str(tmp_path)).read("paragraphs").to_pylist())
    assert texts == [f"a paragraph {i} v2" for i in range(3)] + [f"b paragraph {i} v3" for i in range(2)] + [
        f"c paragraph {i} v1" for i in range(2)
    ]


def test_rows_of_keys_match_the_whole_key():
    """An article id that recurs under another source is not the same article."""
    rows = pa.table({"source": ["a", "b", "a", "a"], "article_id": ["1", "1", "2", "1"], "n": [0, 1, 2, 3]})
    keys = {("a", "1")}
    assert lake_store._rows_of_keys(rows, keys, keep=False).column("n").to_pylist() == [1, 2]
    assert lake_store._rows_of_keys(rows, keys, keep=True).column("n").to_pylist() == [0, 3]
    assert lake_store._rows_of_keys(rows, {("c", "9")}, keep=False).num_rows == 4
