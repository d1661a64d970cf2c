"""`Lake` owns the partition path convention and every write to the parquet tables.

Layout (hive partitioning, readable as is by DuckDB, pandas/pyarrow and Spark):

    <root>/articles/published_date=YYYY-MM-DD/part-0.parquet
    <root>/paragraphs/published_date=YYYY-MM-DD/part-0.parquet
    <root>/failures/failed_date=YYYY-MM-DD/<run>-<uuid>.parquet

A partition is one file, replaced whole: the new version is written beside it under a hidden name
(readers skip names starting with "."), flushed, then renamed over the old one. A crash leaves either the
old file or the new one, never half of one. Paragraphs are committed before their articles, so an
interrupted upsert is detected on the rerun (the stored article still has its old content hash).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from wirestance.durable import fsync_dir
from wirestance.failures import Failure
from wirestance.lake import schema
from wirestance.lake.locks import partition_lock

PART_FILE = "part-0.parquet"

ArticleKey = tuple[str, str]


@dataclass
class WriteCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    paragraphs_written: int = 0

    def __iadd__(self, other: WriteCounts) -> WriteCounts:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.paragraphs_written += other.paragraphs_written
        return self


@dataclass(frozen=True, slots=True)
class _Stored:
    partition: date
    updated: datetime | None
    content_hash: str


class Lake:
    def __init__(self, url: str) -> None:
        self.url = url
        self.fs, self.root = fsspec.core.url_to_fs(url)
        self._is_local = "file" in _protocols(self.fs)
        self._lock_dir = os.path.join(self.root, "_locks") if self._is_local else None
        self._index: dict[ArticleKey, _Stored] | None = None

    # -- paths ------------------------------------------------------------------------------------

    def table_dir(self, table: str) -> str:
        if table not in schema.TABLES:
            raise ValueError(f"unknown lake table {table!r}; tables: {sorted(schema.TABLES)}")
        return f"{self.root}/{table}"

    def partition_dir(self, table: str, day: date) -> str:
        column = schema.partition_column(table)
        return f"{self.table_dir(table)}/{column}={day.isoformat()}"

    def partitions(self, table: str) -> list[date]:
        base = self.table_dir(table)
        if not self.fs.exists(base):
            return []
        days = []
        for entry in self.fs.ls(base, detail=False):
            name = entry.rstrip("/").rsplit("/", 1)[-1]
            _, _, value = name.partition("=")
            if value and not name.startswith((".", "_")):
                days.append(date.fromisoformat(value))
        return sorted(days)

    # -- reading ----------------------------------------------------------------------------------

    def read(self, table: str, *, filter: ds.Expression | None = None, columns: list[str] | None = None) -> pa.Table:
        """The whole table (or a filtered part), with its partition column typed as a date."""
        base = self.table_dir(table)
        column = schema.partition_column(table)
        full_schema = schema.TABLES[table].append(pa.field(column, pa.date32()))
        if not self.fs.exists(base):
            empty = full_schema.empty_table()
            return empty.select(columns) if columns else empty
        dataset = ds.dataset(
            base,
            filesystem=self.fs,
            format="parquet",
            partitioning=ds.partitioning(pa.schema([(column, pa.date32())]), flavor="hive"),
            schema=full_schema,
            ignore_prefixes=[".", "_"],
        )
        return dataset.to_table(filter=filter, columns=columns)

    def _read_partition(self, table: str, day: date) -> pa.Table | None:
        path = f"{self.partition_dir(table, day)}/{PART_FILE}"
        if not self.fs.exists(path):
            return None
        with self.fs.open(path, "rb") as handle:
            return pq.read_table(handle, schema=schema.TABLES[table])

    # -- writing ----------------------------------------------------------------------------------

    def upsert(
        self,
        articles: list[dict],
        paragraphs: list[dict],
        *,
        replace_unchanged: bool = False,
    ) -> WriteCounts:
        """Store parsed articles and their labelled paragraphs.

        Each article row carries `published_date` (its partition). A stored article is replaced when its
        content changed and the new copy is not older (by update time); with `replace_unchanged`
        (reprocessing with new parsers or a new model) it is replaced whenever it is given.
        """
        counts = WriteCounts()
        # Each input list becomes one Arrow table; a partition takes its rows by position, so no row is
        # copied or converted per partition.
        paragraph_table = pa.Table.from_pylist(paragraphs, schema=schema.PARAGRAPHS)
        paragraphs_by_key: dict[ArticleKey, list[int]] = {}
        for position, row in enumerate(paragraphs):
            paragraphs_by_key.setdefault((row["source"], row["article_id"]), []).append(position)

        # The last copy of an article in the batch wins, so a batch never holds a key twice.
        by_day: dict[date, dict[ArticleKey, int]] = {}
        for position, row in enumerate(articles):
            by_day.setdefault(row[schema.PARTITION_COLUMN], {})[(row["source"], row["article_id"])] = position
        article_table = pa.Table.from_pylist(articles, schema=schema.ARTICLES) if by_day else None

        index = self._article_index()
        for day in sorted(by_day):
            with partition_lock(self._lock_dir, f"published_date={day.isoformat()}"):
                # Decide against what is on disk now (inside the lock), not a cached view, so two
                # processes writing the same partition one after the other count and merge correctly.
                current = self._read_partition("articles", day)
                stored_here = _stored_rows(current, day)
                kept: dict[ArticleKey, int] = {}
                for key, position in by_day[day].items():
                    row = articles[position]
                    stored = stored_here.get(key) or index.get(key)
                    if stored is None:
                        counts.new += 1
                    elif not replace_unchanged and not replaces_stored(
                        stored.content_hash, stored.updated, row["content_hash"], row.get("updated")
                    ):
                        counts.unchanged += 1  # same content, or a stale copy of a newer stored version
                        continue
                    else:
                        counts.updated += 1
                        if key not in stored_here and stored.partition != day:
                            self._drop_from_partition(stored.partition, key)
                    kept[key] = position
                if not kept:
                    continue
                keys = set(kept)
                wanted = [p for key in keys for p in paragraphs_by_key.get(key, [])]
                new_paragraphs = paragraph_table.take(pa.array(wanted, pa.int64()))
                assert article_table is not None
                fresh_articles = article_table.take(pa.array(list(kept.values()), pa.int64()))
                self._replace_rows("paragraphs", day, keys, new_paragraphs, self._read_partition("paragraphs", day))
                self._replace_rows("articles", day, keys, fresh_articles, current)
            counts.paragraphs_written += new_paragraphs.num_rows
            for key, position in kept.items():
                row = articles[position]
                index[key] = _Stored(day, row.get("updated"), row["content_hash"])
        return counts

    def _drop_from_partition(self, day: date, key: ArticleKey) -> None:
        """An updated article whose publication date changed leaves its old partition."""
        with partition_lock(self._lock_dir, f"published_date={day.isoformat()}"):
            for table in ("paragraphs", "articles"):
                empty = schema.TABLES[table].empty_table()
                self._replace_rows(table, day, {key}, empty, self._read_partition(table, day))

    def rewrite_paragraphs(self, transform: Callable[[pa.Table], pa.Table | None]) -> int:
        """Apply `transform` to every paragraphs partition (None = leave it); returns partitions rewritten."""
        rewritten = 0
        for day in self.partitions("paragraphs"):
            with partition_lock(self._lock_dir, f"published_date={day.isoformat()}"):
                current = self._read_partition("paragraphs", day)
                if current is None:
                    continue
                changed = transform(current)
                if changed is not None:
                    self._write_partition("paragraphs", day, changed)
                    rewritten += 1
        return rewritten

    def append_failures(self, failures: Iterable[Failure | dict], run_id: str) -> int:
        rows = [item.as_row() if isinstance(item, Failure) else item for item in failures]
        if not rows:
            return 0
        by_day: dict[date, list[dict]] = {}
        for row in rows:
            row = {**row, "run_id": run_id, "schema_version": schema.SCHEMA_VERSION}
            by_day.setdefault(row["failed_at"].date(), []).append(row)
        for day, day_rows in by_day.items():
            table = pa.Table.from_pylist(day_rows, schema=schema.FAILURES)
            name = f"{_safe(run_id)}-{uuid.uuid4().hex[:12]}.parquet"
            self._write_file(f"{self.partition_dir('failures', day)}/{name}", table)
        return len(rows)

    def put_raw_index(self, rows: list[dict], day: date, name: str) -> int:
        """Index rows of one sealed WARC file, written whole as `<name>.parquet`.

        One file per WARC file under a name derived from it, so writing it again (crash recovery) replaces
        rather than duplicates.
        """
        rows = [{**row, "schema_version": schema.SCHEMA_VERSION} for row in rows]
        table = pa.Table.from_pylist(rows, schema=schema.RAW_INDEX)
        self._write_file(f"{self.partition_dir('raw_index', day)}/{_safe(name)}.parquet", table)
        return len(rows)

    # -- internals --------------------------------------------------------------------------------

    def _article_index(self) -> dict[ArticleKey, _Stored]:
        if self._index is None:
            columns = ["source", "article_id", "updated", "content_hash", schema.PARTITION_COLUMN]
            table = self.read("articles", columns=columns)
            index: dict[ArticleKey, _Stored] = {}
            for row in table.to_pylist():
                index[(row["source"], row["article_id"])] = _Stored(
                    row[schema.PARTITION_COLUMN], row["updated"], row["content_hash"]
                )
            self._index = index
        return self._index

    def _replace_rows(
        self,
        table: str,
        day: date,
        keys: set[ArticleKey],
        fresh: pa.Table,
        current: pa.Table | None,
    ) -> None:
        """Rewrite one partition (`current`, None when it has no file): its rows for `keys` replaced by `fresh`."""
        if current is not None and current.num_rows:
            keep = pc.invert(_key_mask(current, keys))
            merged = pa.concat_tables([current.filter(keep), fresh])
        else:
            merged = fresh
        if merged.num_rows == 0:
            self._remove_partition(table, day)
            return
        key_columns = schema.PARAGRAPH_KEY if table == "paragraphs" else schema.ARTICLE_KEY
        sort_keys = [(c, "ascending") for c in key_columns]
        self._write_partition(table, day, merged.sort_by(sort_keys))

    def _write_partition(self, table: str, day: date, data: pa.Table) -> None:
        self._write_file(f"{self.partition_dir(table, day)}/{PART_FILE}", data)

    def _write_file(self, path: str, data: pa.Table) -> None:
        directory = path.rsplit("/", 1)[0]
        self.fs.makedirs(directory, exist_ok=True)
        tmp = f"{directory}/.{path.rsplit('/', 1)[1]}.tmp-{uuid.uuid4().hex}"
        if self._is_local:
            with open(tmp, "wb") as handle:
                pq.write_table(data, handle, compression="zstd")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            fsync_dir(directory)
        else:
            # Object stores make a single PUT visible whole, so the temp object + move is enough.
            with self.fs.open(tmp, "wb") as handle:
                pq.write_table(data, handle, compression="zstd")
            self.fs.mv(tmp, path)

    def _remove_partition(self, table: str, day: date) -> None:
        path = f"{self.partition_dir(table, day)}/{PART_FILE}"
        if self.fs.exists(path):
            self.fs.rm(path)


def _stored_rows(current: pa.Table | None, day: date) -> dict[ArticleKey, _Stored]:
    """What a partition's articles table holds, by key."""
    if current is None:
        return {}
    columns = current.select(["source", "article_id", "updated", "content_hash"]).to_pydict()
    return {
        (source, article_id): _Stored(day, updated, content_hash)
        for source, article_id, updated, content_hash in zip(
            columns["source"], columns["article_id"], columns["updated"], columns["content_hash"], strict=True
        )
    }


def _key_mask(table: pa.Table, keys: set[ArticleKey]) -> pa.ChunkedArray:
    joined = pc.binary_join_element_wise(table["source"], table["article_id"], "\x1f")
    wanted = pa.array([f"{s}\x1f{a}" for s, a in keys], pa.string())
    return pc.is_in(joined, value_set=wanted)


def replaces_stored(
    stored_hash: str, stored_updated: datetime | None, later_hash: str, later_updated: datetime | None
) -> bool:
    """Whether a later copy of a stored article replaces it: its content changed, and it is not older by
    update time (a stale copy of a newer stored version is kept out). wirestance.pipeline.replaces applies
    it to parsed articles."""
    return later_hash != stored_hash and not _older(later_updated, stored_updated)


def _older(candidate: datetime | None, stored: datetime | None) -> bool:
    return candidate is not None and stored is not None and candidate < stored


def _protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)[:64]


def iter_batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
