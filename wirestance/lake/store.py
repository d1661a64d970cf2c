"""`Lake` owns the lake's Delta Lake tables (delta-rs) and every write to them.

Layout (one Delta table per table, hive-partitioned data files plus the transaction log):

    <root>/articles/_delta_log/...                       the log: which data files make each version
    <root>/articles/published_date=YYYY-MM-DD/*.parquet  data files, some of them superseded
    <root>/paragraphs/published_date=YYYY-MM-DD/*.parquet
    <root>/failures/failed_date=YYYY-MM-DD/*.parquet
    <root>/raw_index/fetch_date=YYYY-MM-DD/*.parquet

A write adds new data files and then commits one log entry naming the files it adds and removes; the
commit is a create-if-absent of the next log file (a rename on local disks, a conditional PUT on object
stores), so of two writers racing for a version one wins and the other re-checks and retries. No lock is
held anywhere: a writer killed at any point leaves the table at its last commit (its unreferenced files are
removed by vacuum), and readers see whole versions only. Readers must go through the log (`DeltaTable`,
`Lake.read`): the parquet files alone include superseded rows.

Upsert order: an article's row is committed first, then its paragraphs. So a reader never sees paragraphs
without their article; between the two commits it may see a new article with no paragraphs yet, or an
updated article (possibly on its new date) with its previous paragraphs. A writer killed between the two
commits leaves that state until the next upsert of the article, which finds the paragraphs stale and
rewrites them.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from deltalake import DeltaTable, Field, WriterProperties, write_deltalake
from deltalake import Schema as DeltaSchema
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError
from deltalake.fs import DeltaStorageHandler
from deltalake.transaction import AddAction, RemoveAction, create_table_with_add_actions

from wirestance.failures import Failure
from wirestance.lake import schema
from wirestance.lake.outcomes import WriteCounts, replaces_stored

log = logging.getLogger(__name__)

ArticleKey = tuple[str, str]
AsOf = int | datetime | None
T = TypeVar("T")

#: Commit attempts per write before giving up (each one re-reads the table): conflicts are retried, never lost.
MAX_COMMIT_ATTEMPTS = 60
#: Backoff between attempts: base * 2**attempt seconds, capped, times a random factor (full jitter).
BACKOFF_BASE = 0.05
BACKOFF_CAP = 2.0

#: Upserts write small files with a fast codec (Snappy: about a fifth less CPU per upsert than ZSTD, measured
#: with `python -m bench --only lake`); maintain-lake compacts them into large ZSTD files.
_WRITER = WriterProperties(compression="SNAPPY")

#: Delta statistics (min/max per data file) only on the columns look-ups and replace-wheres prune by, and
#: the times readers filter on: statistics of every column (text included) made each upsert ~15% slower.
#: Tables made before get the property on their next write.
_TABLE_PROPERTIES: dict[str, dict[str, str]] = {
    "articles": {"delta.dataSkippingStatsColumns": "source,article_id,published,updated"},
    "paragraphs": {"delta.dataSkippingStatsColumns": "source,article_id,para_index"},
}


@dataclass(frozen=True, slots=True)
class _Stored:
    partition: date
    updated: datetime | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class _ArticlesSeen:
    """What an upsert knows of the articles table right after its articles commit: the stored rows of its
    keys at `version` (absent keys are not stored). Valid only while the table is still at that version."""

    version: int
    stored: dict[ArticleKey, _Stored]


@dataclass(frozen=True, slots=True)
class _ArticleBatch:
    """An upsert's article rows (`schema.ARTICLE_ROWS`), one per article (its last copy), with the columns
    its decisions read, in row order."""

    rows: pa.Table
    keys: list[ArticleKey]
    content_hashes: list[str]
    updated: list[datetime | None]
    days: list[date]

    @classmethod
    def of(cls, rows: pa.Table) -> _ArticleBatch:
        keys = _keys_of(rows)
        last = {key: position for position, key in enumerate(keys)}  # the last copy of an article wins
        if len(last) < len(keys):
            positions = sorted(last.values())
            rows, keys = rows.take(_positions(positions)), [keys[position] for position in positions]
        hashes = rows.column("content_hash").to_pylist()
        days = rows.column(schema.PARTITION_COLUMN).to_pylist()
        for key, content_hash, day in zip(keys, hashes, days, strict=True):
            if content_hash is None or day is None:
                needs = f"content_hash and {schema.PARTITION_COLUMN}"
                raise ValueError(f"article {key[0]}/{key[1]}: a row to store needs {needs}")
        return cls(rows, keys, hashes, rows.column("updated").to_pylist(), days)


@dataclass(frozen=True, slots=True)
class _DataFile:
    partition: date
    size: int
    keys: tuple[ArticleKey, ...]


@dataclass(frozen=True, slots=True)
class _Written:
    """A data file an upsert wrote: its add action, the article keys of its rows and, for the articles table,
    the stored rows of the keys new in it (the keys it kept from a rewritten file keep theirs)."""

    action: AddAction
    keys: list[ArticleKey]
    stored: dict[ArticleKey, _Stored]


@dataclass(frozen=True, slots=True)
class _Pending:
    """A commit this writer made on top of the key index's version, not yet seen in a refreshed snapshot:
    it is that snapshot's next version if, when refreshed, the table is exactly one version further."""

    version: int
    added: list[_Written]
    removed: list[str]


class _KeyIndex:
    """Which data files of a table version hold which article keys (and, for the articles table, each key's
    stored partition, update time and content hash). Brought to a later version by the difference of the two
    versions' file lists (files removed: their keys go; files added: their key columns are read), which is
    what the versions in between added: a few files per upsert, whatever the table's size. This writer's own
    commits are learned from what it wrote, without reading the files back. Compaction (maintain-lake)
    removes and adds files holding the same rows, read once afterwards."""

    def __init__(self, table: str, table_uri: str, storage_options: dict[str, str]) -> None:
        self.table = table
        self.table_uri = table_uri
        self.version = -1
        self.files: dict[str, _DataFile] = {}
        #: The data file holding a key or, for the few keys several files hold, the set of them (one set per
        #: key was ~200 bytes of each stored article, in each of the two tables' indexes).
        self.holders: dict[ArticleKey, str | set[str]] = {}
        self.stored: dict[ArticleKey, _Stored] = {}
        self.pending: _Pending | None = None
        self._markers: set[str] = set()  # of `files`: looked up by every commit, kept apart from the data files
        self.filesystem, self.root = _filesystem(table_uri, storage_options)
        self._columns = ["source", "article_id"] + (["updated", "content_hash"] if table == "articles" else [])

    @property
    def markers(self) -> list[str]:
        return sorted(self._markers)

    def bring_to(self, dt: DeltaTable) -> None:
        if dt.version() == self.version:
            return
        pending, self.pending = self.pending, None
        if pending is not None and dt.version() == pending.version:
            # The table moved by exactly one version since this index's, and this writer committed one on top
            # of it: that version is this writer's commit, whose files it knows.
            self.apply(pending)
            return
        actions = pa.table(dt.get_add_actions(flatten=True))
        current = dict(
            zip(
                actions.column("path").to_pylist(),
                zip(
                    actions.column(f"partition.{schema.PARTITION_COLUMN}").to_pylist(),
                    actions.column("size_bytes").to_pylist(),
                    strict=True,
                ),
                strict=True,
            )
        )
        for path in [path for path in self.files if path not in current]:
            self._forget(path)
        for path, (day, size) in current.items():
            if path not in self.files:
                with self.filesystem.open_input_file(self.root + unquote(path)) as handle:
                    present = set(pq.read_schema(handle).names)
                    handle.seek(0)
                    rows = pq.ParquetFile(handle).read(columns=[c for c in self._columns if c in present])
                self.learn_rows(path, day, size, rows)
        self.version = dt.version()

    def apply(self, commit: _Pending) -> None:
        """A commit's files: the added ones are learned before the removed ones are forgotten, so the keys a
        rewritten file kept stay known (with their stored rows) throughout."""
        for written in commit.added:
            day = date.fromisoformat(written.action.partition_values[schema.PARTITION_COLUMN] or "")
            self.learn(written.action.path, day, written.action.size, written.keys, written.stored)
        for path in commit.removed:
            self._forget(path)
        self.version = commit.version

    def learn(self, path: str, day: date, size: int, keys: list[ArticleKey], stored: dict[ArticleKey, _Stored]) -> None:
        """A data file, the article keys of its rows and (articles table) the stored rows it brings."""
        file = self.files[path] = _DataFile(day, size, tuple(dict.fromkeys(keys)))
        if _is_marker(path):
            self._markers.add(path)
        holders = self.holders
        for key in file.keys:
            held = holders.get(key)
            if held is None or held == path:
                holders[key] = path
            elif isinstance(held, str):
                holders[key] = {held, path}
            else:
                held.add(path)
        self.stored.update(stored)

    def holders_of(self, key: ArticleKey) -> Iterable[str]:
        """The data files that hold rows of `key`."""
        held = self.holders.get(key)
        if held is None:
            return ()
        return (held,) if isinstance(held, str) else held

    def learn_rows(self, path: str, day: date, size: int, rows: pa.Table) -> None:
        """A data file read back: its rows' key columns (for articles also update time and hash)."""
        keys = _keys_of(rows)
        stored: dict[ArticleKey, _Stored] = {}
        if self.table == "articles" and keys:
            updated, hashes = rows.column("updated").to_pylist(), rows.column("content_hash").to_pylist()
            stored = {
                key: _Stored(day, when, content_hash)
                for key, when, content_hash in zip(keys, updated, hashes, strict=True)
            }
        self.learn(path, day, size, keys, stored)

    def _forget(self, path: str) -> None:
        self._markers.discard(path)
        for key in self.files.pop(path).keys:
            held = self.holders.get(key)
            if held is None:
                continue
            if isinstance(held, str):
                if held != path:
                    continue
            else:
                held.discard(path)
                if held:
                    continue
            del self.holders[key]
            self.stored.pop(key, None)


class ReadOnlyLakeError(RuntimeError):
    """A write to a lake opened at a past version."""


class Lake:
    """The lake at `url` (a local path, file:// or s3://...). With `as_of` (a version of the articles
    table, or a time) every read shows the tables as they were then, and writes are refused."""

    def __init__(self, url: str, *, storage_options: dict[str, str] | None = None, as_of: AsOf = None) -> None:
        self.url = url.rstrip("/") if "://" in url else str(Path(url).absolute())
        self.storage_options = dict(storage_options or {})
        self.as_of = as_of
        self._as_of_time: datetime | None = None
        self._thread_tables = threading.local()

    @property
    def is_local(self) -> bool:
        return "://" not in self.url or self.url.startswith("file://")

    # -- tables -----------------------------------------------------------------------------------

    def table_uri(self, table: str) -> str:
        if table not in schema.TABLES:
            raise ValueError(f"unknown lake table {table!r}; tables: {sorted(schema.TABLES)}")
        return f"{self.url}/{table}"

    def full_schema(self, table: str) -> pa.Schema:
        """The table's columns and, last, its partition column (a date)."""
        return schema.full_schema(table)

    def delta_table(self, table: str) -> DeltaTable | None:
        """The table's current version (or the `as_of` one); None while nothing was ever written to it."""
        try:
            dt = DeltaTable(self.table_uri(table), storage_options=self.storage_options or None)
        except TableNotFoundError:
            return None
        if self.as_of is not None:
            target = self._pinned_time(table)
            if target is None:
                assert isinstance(self.as_of, int)
                latest = dt.version()
                try:
                    dt.load_as_version(self.as_of)
                except DeltaError as error:
                    log.debug("%s: no version %s (%s)", table, self.as_of, error)
                    raise ValueError(
                        f"the {table} table has no version {self.as_of} (its versions: 0 to {latest}, older ones "
                        "possibly cleaned up by maintenance; see `wirestance lake history`)"
                    ) from None
            else:
                version = _version_at(dt, target)
                if version is None:
                    return None  # the table did not exist yet at that time
                dt.load_as_version(version)
        return dt

    def _pinned_time(self, table: str) -> datetime | None:
        """For a version number: the articles table at that version, the others as they were just before the
        next articles commit (so the paragraphs committed after that version's articles belong to it)."""
        if isinstance(self.as_of, datetime):
            return self.as_of
        if table == "articles" or self.as_of is None:
            return None
        if self._as_of_time is None:
            articles = DeltaTable(self.table_uri("articles"), storage_options=self.storage_options or None)
            times = {entry["version"]: entry["timestamp"] for entry in articles.history()}
            if self.as_of not in times:
                raise ValueError(f"the articles table has no version {self.as_of} (it has {min(times)}-{max(times)})")
            following = times.get(self.as_of + 1)
            # The latest version: the other tables as they are now (a far-future time).
            millis = following - 1 if following is not None else 253402300799000
            self._as_of_time = datetime.fromtimestamp(millis / 1000, tz=UTC)
        return self._as_of_time

    def _writable(self, table: str) -> DeltaTable:
        """The table at its latest version, for writing; created (empty, partitioned) on first use.

        Each thread keeps its DeltaTable objects and brings them up to date by reading only the newer
        commits, instead of loading the table again for every write.
        """
        if self.as_of is not None:
            raise ReadOnlyLakeError(f"{self.url} is opened as of {self.as_of}: it is read-only")
        cache: dict[str, DeltaTable] = self._thread_tables.__dict__.setdefault("tables", {})
        cached = cache.get(table)
        if cached is not None:
            try:
                cached.update_incremental()
                return cached
            except (DeltaError, OSError) as error:  # e.g. the table was removed and made again meanwhile
                log.info("%s: reloading the table (%s)", table, error)
                del cache[table]

        def create() -> DeltaTable:
            existing = self.delta_table(table)
            if existing is not None:
                self._add_missing_columns(existing, table)
                self._set_properties(existing, table)
                return existing
            if table in _STATS_COLUMNS:  # a table upserts write to: made with its marker (see _replace_rows)
                filesystem, root = _filesystem(self.table_uri(table), self.storage_options)
                marker = self._write_file(table, filesystem, root, _MARKER_DAY, _file_schema(table).empty_table())
                create_table_with_add_actions(
                    self.table_uri(table),
                    DeltaSchema.from_arrow(self.full_schema(table)),
                    [marker],
                    mode="ignore",  # made meanwhile by another writer: its marker serves
                    partition_by=[schema.partition_column(table)],
                    configuration=_TABLE_PROPERTIES.get(table),
                    storage_options=self.storage_options or None,
                )
                return DeltaTable(self.table_uri(table), storage_options=self.storage_options or None)
            return DeltaTable.create(
                self.table_uri(table),
                self.full_schema(table),
                mode="ignore",
                partition_by=[schema.partition_column(table)],
                configuration=_TABLE_PROPERTIES.get(table),
                storage_options=self.storage_options or None,
            )

        cache[table] = with_commit_retries(create, f"create {table}")
        return cache[table]

    def _add_missing_columns(self, dt: DeltaTable, table: str) -> None:
        """A table made under an older SCHEMA_VERSION gets the columns added since (null in its old rows)."""
        present = {f.name for f in dt.schema().fields}
        missing = [f for f in self.full_schema(table) if f.name not in present]
        if missing:
            log.info("%s: adding columns %s", table, [f.name for f in missing])
            dt.alter.add_columns([Field.from_arrow(f.with_nullable(True)) for f in missing])

    def _set_properties(self, dt: DeltaTable, table: str) -> None:
        """A table made before its properties were set (or migrated) gets them, in one metadata commit."""
        wanted = _TABLE_PROPERTIES.get(table, {})
        current = dt.metadata().configuration
        if any(current.get(key) != value for key, value in wanted.items()):
            log.info("%s: setting table properties %s", table, wanted)
            dt.alter.set_table_properties(wanted)

    def partitions(self, table: str) -> list[date]:
        dt = self.delta_table(table)
        if dt is None:
            return []
        column = schema.partition_column(table)
        values = {part[column] for part in dt.partitions()}
        return sorted(day for day in (date.fromisoformat(v) for v in values if v) if day != _MARKER_DAY)

    def version(self, table: str) -> int | None:
        dt = self.delta_table(table)
        return None if dt is None else dt.version()

    # -- reading ----------------------------------------------------------------------------------

    def read(self, table: str, *, filter: ds.Expression | None = None, columns: list[str] | None = None) -> pa.Table:
        """The whole table (or a filtered part), with its partition column typed as a date."""
        full = self.full_schema(table)
        wanted = columns or full.names
        dt = self.delta_table(table)
        if dt is None:
            return full.empty_table().select(wanted)
        dataset = dt.to_pyarrow_dataset()
        present = [name for name in wanted if name in dataset.schema.names]
        data = dataset.to_table(filter=filter, columns=present)
        if len(present) == len(wanted):
            return data
        # A version written under an older schema: the columns added since read as nulls.
        columns = [data[name] if name in present else pa.nulls(data.num_rows, full.field(name).type) for name in wanted]
        return pa.Table.from_arrays(columns, schema=pa.schema([full.field(name) for name in wanted]))

    def _key_index(self, table: str, dt: DeltaTable) -> _KeyIndex:
        """This thread's key index of `table`, brought to `dt`'s version (a writable table of this thread)."""
        indexes: dict[str, _KeyIndex] = self._thread_tables.__dict__.setdefault("key_indexes", {})
        index = indexes.get(table)
        if index is None or index.table_uri != dt.table_uri or index.version > dt.version():
            index = indexes[table] = _KeyIndex(table, dt.table_uri, self.storage_options)
        index.bring_to(dt)
        return index

    def _stored_articles(self, dt: DeltaTable | None, keys: Iterable[ArticleKey]) -> dict[ArticleKey, _Stored]:
        """The stored rows of these keys in `dt`'s version, from the key index: a look-up costs what changed
        since this writer's last one, not the table's size."""
        if dt is None:
            return {}
        stored = self._key_index("articles", dt).stored
        return {key: known for key in keys if (known := stored.get(key)) is not None}

    # -- writing ----------------------------------------------------------------------------------

    def upsert(
        self,
        articles: list[dict] | schema.Columns | pa.Table,
        paragraphs: list[dict] | schema.Columns | pa.Table,
        *,
        replace_unchanged: bool = False,
    ) -> WriteCounts:
        """Store parsed articles and their labelled paragraphs (two commits: articles, then paragraphs).

        Each article row carries `published_date` (its partition). A stored article is replaced, with all
        its paragraphs, when its content changed and the new copy is not older (by update time); with
        `replace_unchanged` (reprocessing with new parsers or a new model) whenever it is given. An article
        whose date changed moves partition in the same commit, leaving no copy behind. An article given twice
        is stored once, as its last copy, with that copy's paragraphs (a copy's paragraphs start again at a
        paragraph index the previous copy had).

        Rows come as dicts, as one list per column, or as Arrow tables (`schema.ARTICLE_ROWS`,
        `schema.PARAGRAPH_ROWS`: what a reprocess makes of its workers' column lists, without a dict per row);
        either way they are made one table each (`schema.rows_table`), and each partition's new data file is
        written from a slice of it.
        """
        batch = _ArticleBatch.of(schema.rows_table(articles, schema.ARTICLE_ROWS))
        if not batch.keys:
            return WriteCounts()
        counts, written, seen = with_commit_retries(
            lambda: self._write_articles(batch, replace_unchanged), "write articles"
        )
        paragraph_rows = schema.rows_table(paragraphs, schema.PARAGRAPH_ROWS)
        counts.paragraphs_written = with_commit_retries(
            lambda: self._write_paragraphs(batch, paragraph_rows, written, seen), "write paragraphs"
        )
        return counts

    def _write_articles(
        self, batch: _ArticleBatch, replace_unchanged: bool
    ) -> tuple[WriteCounts, set[ArticleKey], _ArticlesSeen]:
        """One attempt: decide against the current version, replace the rows to write on that same version.

        Also returns the stored rows of the batch's keys as of the version this attempt leaves if its commit
        came right on top of the version read (delta-rs may commit a non-conflicting write after other
        writers' commits, whose rows this attempt did not see): the version read, or the one after it. The
        paragraphs step uses them only if the table is at that version when it looks.
        """
        dt = self._writable("articles")
        read_version = dt.version()
        stored = self._stored_articles(dt, batch.keys)
        counts = WriteCounts()
        to_write: list[int] = []
        for position, key in enumerate(batch.keys):
            known = stored.get(key)
            if known is None:
                counts.new += 1
            elif not replace_unchanged and not replaces_stored(
                known.content_hash, known.updated, batch.content_hashes[position], batch.updated[position]
            ):
                counts.unchanged += 1  # same content, or a stale copy of a newer stored version
                continue
            else:
                counts.updated += 1
            to_write.append(position)
        if to_write:
            # Replace-where on the keys: the stored copies (in whatever partition) go, the new rows come, in
            # one commit read from this same version, so a concurrent commit touching them is a conflict.
            keys = {batch.keys[position] for position in to_write}
            fresh = batch.rows if len(to_write) == len(batch.keys) else batch.rows.take(_positions(to_write))
            for written in self._replace_rows("articles", dt, keys, fresh):
                stored.update(written.stored)
            return counts, keys, _ArticlesSeen(read_version + 1, stored)
        return counts, set(), _ArticlesSeen(read_version, stored)

    def _write_paragraphs(
        self,
        batch: _ArticleBatch,
        rows: pa.Table,
        written: set[ArticleKey],
        seen: _ArticlesSeen,
    ) -> int:
        """One attempt: make the stored paragraphs of every article whose stored row is this batch's copy
        equal to the batch's, in one commit (all its old paragraphs go, on any date: `_replace_rows`).

        The paragraphs version is taken before the articles are re-read: a writer that saw an older article
        and commits after a newer one's paragraphs conflicts, retries, and then sees the newer article.
        The articles are looked up again only if a commit came after the articles commit (`seen`).
        """
        dt = self._writable("paragraphs")
        articles = self._writable("articles")
        seen_is_current = articles.version() == seen.version
        stored_articles = seen.stored if seen_is_current else self._stored_articles(articles, batch.keys)
        ours: dict[ArticleKey, date] = {}  # the articles whose stored row is this batch's copy, and their day
        for key, content_hash, day in zip(batch.keys, batch.content_hashes, batch.days, strict=True):
            known = stored_articles.get(key)
            if known is not None and known.content_hash == content_hash and known.partition == day:
                ours[key] = day
        if not ours:
            return 0
        positions, para_indexes = _paragraph_positions(rows, ours)
        # Only the articles this upsert did not write need their stored paragraphs compared (a writer killed
        # between the two commits left them stale); the written ones are replaced in any case.
        to_check = ours.keys() - written
        stored: dict[ArticleKey, set[tuple[int, date, str]]] = {}
        if to_check:
            index = self._key_index("paragraphs", dt)
            for path in {path for key in to_check for path in index.holders_of(key)}:
                day = index.files[path].partition
                kept = _rows_of_keys(
                    self._read_file(index, path, ["source", "article_id", "para_index", "text"]), to_check, keep=True
                )
                for row in kept.to_pylist():
                    key = (row["source"], row["article_id"])
                    stored.setdefault(key, set()).add((row["para_index"], day, row["text"]))
        texts = rows.column("text")
        needed: set[ArticleKey] = set()
        taken: list[int] = []
        days: list[date] = []
        for key, day in sorted(ours.items(), key=lambda item: item[1]):  # by day: the rows come out grouped
            mine = positions.get(key, [])
            if key not in written and stored.get(key, set()) == {
                (para_indexes[position], day, texts[position].as_py()) for position in mine
            }:
                continue  # complete already: left alone
            needed.add(key)
            taken += mine
            days += [day] * len(mine)
        if not needed:
            return 0
        fresh = rows.take(_positions(taken)).append_column(schema.PARTITION_COLUMN, pa.array(days, pa.date32()))
        self._replace_rows("paragraphs", dt, needed, fresh)
        return fresh.num_rows

    def _replace_rows(self, table: str, dt: DeltaTable, keys: set[ArticleKey], fresh: pa.Table) -> list[_Written]:
        """One commit on `dt`'s version: every stored row of `keys` goes (from whatever files and partitions
        the key index says hold them), the `fresh` rows (the table's columns, then its partition column) come.
        Returns the data files written.

        Copy-on-write done here rather than by delta-rs's replace-where, which reads the key columns of every
        data file to find the rows (keys are random: file statistics prune nothing): each file holding a key
        is rewritten without it, merged with the fresh rows of its partition into one new file per partition.

        Concurrency: the commit removes exactly the files it rewrote, so a concurrent commit that rewrote any
        of them conflicts (Delta's delete/delete check); and every such commit also replaces the table's
        marker file (an empty file in partition `_MARKER_DAY`), so two upserts never both commit from overlapping
        versions: one retries on the other's result. That covers two writers inserting one new article on
        different dates (no file of theirs in common otherwise).
        """
        index = self._key_index(table, dt)
        if not index.markers:
            # A table made before markers (or whose markers a restore removed): one commit adding a marker, so
            # that every later snapshot has one; the caller re-reads (a retry) from a snapshot holding it.
            self._commit(table, dt, [self._write_marker(table, index)], [])
            raise CommitFailedError("marker file added; deciding again on the new version")
        fresh_by_day = _split_by_day(fresh, schema.partition_column(table), _file_schema(table))
        # Per partition: the rows kept from the files rewritten there (and their keys), then the fresh rows.
        pieces: dict[date, tuple[list[pa.Table], list[ArticleKey]]] = {}
        removed: list[tuple[str, _DataFile]] = []
        for path in sorted({path for key in keys for path in index.holders_of(key)}):
            file = index.files[path]
            removed.append((path, file))
            kept = _rows_of_keys(self._read_file(index, path), keys, keep=False)
            if kept.num_rows:
                tables, kept_keys = pieces.setdefault(file.partition, ([], []))
                tables.append(kept)
                kept_keys.extend(key for key in file.keys if key not in keys)
        added = [
            self._write_piece(table, index, day, *pieces.get(day, ([], [])), fresh_by_day.get(day))
            for day in sorted(pieces.keys() | fresh_by_day.keys())
        ]
        added.append(self._write_marker(table, index))
        removed += [(path, index.files[path]) for path in index.markers]
        self._commit(table, dt, added, removed)
        return added

    def _write_piece(
        self,
        table: str,
        index: _KeyIndex,
        day: date,
        kept: list[pa.Table],
        kept_keys: list[ArticleKey],
        fresh: pa.Table | None,
    ) -> _Written:
        """One partition's new data file: the rows kept from its rewritten files, then the fresh rows (of
        `_file_schema`)."""
        rows = fresh if fresh is not None else _file_schema(table).empty_table()
        keys = _keys_of(rows)
        stored: dict[ArticleKey, _Stored] = {}
        if table == "articles":
            updated, hashes = rows.column("updated").to_pylist(), rows.column("content_hash").to_pylist()
            stored = {
                key: _Stored(day, when, content_hash)
                for key, when, content_hash in zip(keys, updated, hashes, strict=True)
            }
        if kept:
            rows = pa.concat_tables([*kept, rows])
        action = self._write_file(table, index.filesystem, index.root, day, rows)
        return _Written(action, kept_keys + keys, stored)

    def _write_marker(self, table: str, index: _KeyIndex) -> _Written:
        return _Written(
            self._write_file(table, index.filesystem, index.root, _MARKER_DAY, _file_schema(table).empty_table()),
            [],
            {},
        )

    def _read_file(self, index: _KeyIndex, path: str, columns: list[str] | None = None) -> pa.Table:
        """A data file's rows in `columns` (of the table's schema, all by default; columns added since it was
        written: nulls)."""
        wanted = _file_schema(index.table)
        if columns is not None:
            wanted = pa.schema([wanted.field(name) for name in columns])
        # The whole file in one read (one GET on an object store), then decoded: a fifth less time than the
        # parquet reader's own small reads of the footer and each column, for the small files upserts rewrite.
        with index.filesystem.open_input_file(index.root + unquote(path)) as handle:
            body = handle.read_buffer()
        parquet = pq.ParquetFile(pa.BufferReader(body))
        present = set(parquet.schema_arrow.names)
        return schema.conform(parquet.read(columns=[name for name in wanted.names if name in present]), wanted)

    def _write_file(self, table: str, filesystem: pafs.FileSystem, root: str, day: date, rows: pa.Table) -> AddAction:
        """A new data file of `rows` (in the order of `_file_schema`) in partition `day`, and its add action
        with the statistics the table collects (`delta.dataSkippingStatsColumns`)."""
        column = schema.partition_column(table)
        folder = f"{column}={day.isoformat()}"
        name = "marker" if rows.num_rows == 0 and day == _MARKER_DAY else "part-00000"
        path = f"{folder}/{name}-{uuid.uuid4()}-c000.snappy.parquet"
        body = _parquet_bytes(table, rows)
        if isinstance(filesystem, pafs.LocalFileSystem):
            filesystem.create_dir(root + folder, recursive=True)
            with filesystem.open_output_stream(root + path) as out:
                out.write(body)
        else:
            # delta-rs's object-store stream takes bytes only, which pyarrow's file wrapper never passes it:
            # write to the stream itself (one PUT of the whole file on close).
            assert isinstance(filesystem, pafs.PyFileSystem)
            stream = filesystem.handler._handler.open_output_stream(root + path, None)
            stream.write(body.to_pybytes())
            stream.close()
        return AddAction(
            path=path,
            size=body.size,
            partition_values={column: day.isoformat()},
            modification_time=int(time.time() * 1000),
            data_change=True,
            stats=_stats_json(rows, _STATS_COLUMNS.get(table, ())),
        )

    def _commit(self, table: str, dt: DeltaTable, added: list[_Written], removed: list[tuple[str, _DataFile]]) -> None:
        """Commit the files added and removed in one version. The snapshot `dt` is not refreshed (the next
        write refreshes it anyway): the key index learns the commit when that refresh finds the table one
        version further than the snapshot it was read from (else it reads the difference)."""
        column = schema.PARTITION_COLUMN
        read_version = dt.version()
        index = self._key_index_if_at(table, read_version)
        now = int(time.time() * 1000)
        actions: list[AddAction | RemoveAction] = [written.action for written in added]
        actions += [
            RemoveAction(
                path,
                True,
                now,
                size=file.size,
                partition_values={column: file.partition.isoformat()},
            )
            for path, file in removed
        ]
        dt.create_write_transaction(actions, "append", dt.schema(), partition_by=[column])
        if index is not None:
            index.pending = _Pending(read_version + 1, added, [path for path, _ in removed])

    def _key_index_if_at(self, table: str, version: int) -> _KeyIndex | None:
        index = self._thread_tables.__dict__.get("key_indexes", {}).get(table)
        return index if index is not None and index.version == version else None

    def rewrite_paragraphs(self, transform: Callable[[pa.Table], pa.Table | None]) -> int:
        """Apply `transform` to every paragraphs partition (None = leave it); returns partitions rewritten.

        Each partition is replaced in one commit; a concurrent write to it makes the commit fail, and the
        partition is read and transformed again.
        """
        return self._rewrite_partitions("paragraphs", transform)

    def rewrite_articles(self, transform: Callable[[pa.Table], pa.Table | None]) -> int:
        """As rewrite_paragraphs, for the articles table (reclassify's topic columns)."""
        return self._rewrite_partitions("articles", transform)

    def _rewrite_partitions(self, table: str, transform: Callable[[pa.Table], pa.Table | None]) -> int:
        rewritten = 0
        column = schema.PARTITION_COLUMN
        for day in self.partitions(table):

            def rewrite_one(day: date = day) -> bool:
                dt = self._writable(table)
                current = dt.to_pyarrow_dataset().to_table(
                    filter=pc.field(column) == pa.scalar(day, pa.date32()), columns=schema.TABLES[table].names
                )
                if current.num_rows == 0:
                    return False
                changed = transform(current)
                if changed is None:
                    return False
                changed = changed.append_column(column, pa.array([day] * changed.num_rows, pa.date32()))
                write_deltalake(
                    dt,
                    changed.cast(self.full_schema(table)),
                    mode="overwrite",
                    predicate=f"{column} = '{day.isoformat()}'",
                    writer_properties=_WRITER,
                )
                return True

            if with_commit_retries(rewrite_one, f"rewrite {table} {day}"):
                rewritten += 1
        return rewritten

    def append_failures(self, failures: Iterable[Failure | dict], run_id: str) -> int:
        rows = [
            {
                **row,
                "run_id": run_id,
                "schema_version": schema.SCHEMA_VERSION,
                schema.FAILURE_PARTITION_COLUMN: row["failed_at"].date(),
            }
            for row in (item.as_row() if isinstance(item, Failure) else item for item in failures)
        ]
        if not rows:
            return 0
        table = pa.Table.from_pylist(rows, schema=self.full_schema("failures"))

        def append() -> None:
            write_deltalake(self._writable("failures"), table, mode="append", writer_properties=_WRITER)

        with_commit_retries(append, "append failures")
        return len(rows)

    def put_raw_index(self, rows: list[dict], day: date, name: str) -> int:
        """Index rows of one sealed WARC file (`<day>/<name>.warc.gz`), replacing any earlier rows of that
        file in the same commit, so writing it again (crash recovery, a rebuild) never duplicates."""
        column = schema.RAW_INDEX_PARTITION_COLUMN
        rows = [{**row, "schema_version": schema.SCHEMA_VERSION, column: day} for row in rows]
        table = pa.Table.from_pylist(rows, schema=self.full_schema("raw_index"))
        files = sorted(set(table.column("file").to_pylist())) or [f"{day.isoformat()}/{name}"]
        quoted = ", ".join(_sql_string(f) for f in files)
        predicate = f"{column} = '{day.isoformat()}' AND file IN ({quoted})"

        def replace() -> None:
            write_deltalake(
                self._writable("raw_index"), table, mode="overwrite", predicate=predicate, writer_properties=_WRITER
            )

        with_commit_retries(replace, f"index {name}")
        return len(rows)

    def replace_raw_index(self, rows: list[dict]) -> int:
        """The whole `raw_index` table replaced by `rows` in one commit (a rebuild from the WARC files)."""
        column = schema.RAW_INDEX_PARTITION_COLUMN
        # A sealed file's day is its folder's: <day>/<name>.warc.gz (the UTC day of its fetches).
        rows = [
            {**row, "schema_version": schema.SCHEMA_VERSION, column: date.fromisoformat(row["file"].split("/", 1)[0])}
            for row in rows
        ]
        table = pa.Table.from_pylist(rows, schema=self.full_schema("raw_index"))

        def replace() -> None:
            write_deltalake(self._writable("raw_index"), table, mode="overwrite", writer_properties=_WRITER)

        with_commit_retries(replace, "replace raw_index")
        return len(rows)


def with_commit_retries(attempt: Callable[[], T], what: str) -> T:
    """Run `attempt` until its commit goes through: a conflicting commit is retried after a jittered backoff."""
    for number in range(MAX_COMMIT_ATTEMPTS):
        try:
            return attempt()
        except CommitFailedError as error:
            delay = random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**number))
            log.info("%s: commit conflict (%s), attempt %d, retrying in %.2fs", what, error, number + 1, delay)
            time.sleep(delay)
        except DeltaError as error:
            if not _is_version_race(error):
                raise
            time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**number)))
    raise RuntimeError(f"{what}: no commit after {MAX_COMMIT_ATTEMPTS} conflicting attempts")


def _is_version_race(error: Exception) -> bool:
    """Errors that mean another writer committed first (e.g. two writers creating the same table)."""
    text = str(error).lower()
    return "already exists" in text or "version mismatch" in text or "conflict" in text


def _filesystem(table_uri: str, storage_options: dict[str, str]) -> tuple[pafs.FileSystem, str]:
    """A filesystem to read a table's data files by their log paths, and the prefix to give them: the
    local one directly (a third of the cost), others through delta-rs's object store."""
    parsed = urlparse(table_uri)
    if parsed.scheme in ("", "file"):
        return pafs.LocalFileSystem(), unquote(parsed.path).rstrip("/") + "/"
    return pafs.PyFileSystem(DeltaStorageHandler(table_uri, storage_options or None)), ""


#: The partition of the articles and paragraphs tables' marker files (empty; see `Lake._replace_rows`): a
#: date no agency article has, where plain parquet readers find no rows; `Lake.partitions` leaves it out.
_MARKER_DAY = date(1900, 1, 1)


def _is_marker(path: str) -> bool:
    return path.rsplit("/", 1)[-1].startswith("marker-")


#: The columns whose statistics upserts record (as `_TABLE_PROPERTIES` tells delta-rs for its own writes).
_STATS_COLUMNS = {
    table: tuple(properties["delta.dataSkippingStatsColumns"].split(","))
    for table, properties in _TABLE_PROPERTIES.items()
}


@functools.cache
def _file_schema(table: str) -> pa.Schema:
    """The columns of the table's data files: all but the partition column (it is in the file's path)."""
    return schema.TABLES[table]


#: Parquet options of the files upserts write, for small files written often and read back to be rewritten:
#: no dictionary encoding (ids and texts are mostly unique: the dictionary is built, then given up) and
#: Parquet statistics only on the columns Delta keeps statistics of. Each halves the CPU of writing and
#: reading such a file back (measured with `python -m bench --only lake`); maintain-lake compacts them.
def _parquet_bytes(table: str, rows: pa.Table) -> pa.Buffer:
    if rows.num_rows == 0:
        return _empty_parquet_bytes(table)
    sink = pa.BufferOutputStream()
    pq.write_table(
        rows,
        sink,
        compression="snappy",
        use_dictionary=False,
        write_statistics=list(_STATS_COLUMNS.get(table, ())) or False,
    )
    return sink.getvalue()


@functools.cache
def _empty_parquet_bytes(table: str) -> pa.Buffer:
    """An empty data file (a marker: see `Lake._replace_rows`), made once per process."""
    sink = pa.BufferOutputStream()
    pq.write_table(_file_schema(table).empty_table(), sink, compression="snappy")
    return sink.getvalue()


#: Delta truncates string statistics; longer values are left without min/max (the file is never pruned).
_MAX_STATS_STRING = 32


def _stats_json(rows: pa.Table, columns: Iterable[str]) -> str:
    """Delta file statistics (numRecords, minValues, maxValues, nullCount) of these columns."""
    minimum: dict[str, object] = {}
    maximum: dict[str, object] = {}
    nulls: dict[str, int] = {}
    for name in columns:
        values = rows.column(name)
        nulls[name] = values.null_count
        if values.null_count == len(values):
            continue
        bounds = pc.min_max(values).as_py()
        low, high = bounds["min"], bounds["max"]
        if isinstance(low, str):
            if max(len(low), len(high)) > _MAX_STATS_STRING:
                continue
        elif isinstance(low, datetime):
            # Millisecond precision: the lower bound rounded down and the upper one up, so no row falls outside.
            low = _iso_millis(low - timedelta(microseconds=low.microsecond % 1000))
            high = _iso_millis(high + timedelta(microseconds=(1000 - high.microsecond % 1000) % 1000))
        minimum[name], maximum[name] = low, high
    return json.dumps({"numRecords": rows.num_rows, "minValues": minimum, "maxValues": maximum, "nullCount": nulls})


def _iso_millis(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _keys_of(rows: pa.Table) -> list[ArticleKey]:
    """The article keys of `rows`, their strings interned: the key indexes of both tables hold every stored
    article's key for as long as a writer lives, and one shared source name and one article id for both
    indexes is ~170 bytes less of each stored article than fresh strings per row and table."""
    sources = map(sys.intern, rows.column("source").to_pylist())
    return list(zip(sources, map(sys.intern, rows.column("article_id").to_pylist()), strict=True))


def _rows_of_keys(rows: pa.Table, keys: set[ArticleKey], *, keep: bool) -> pa.Table:
    """The rows of these keys (keep) or the others. The ids are matched in Arrow and only the few rows whose
    id matches are checked by their whole key in Python (an id may recur under another source)."""
    ids = pc.is_in(rows.column("article_id"), value_set=pa.array({article_id for _, article_id in keys}, pa.string()))
    candidates = pc.indices_nonzero(ids)
    sources = rows.column("source").take(candidates).to_pylist()
    article_ids = rows.column("article_id").take(candidates).to_pylist()
    match = [
        index
        for index, source, article_id in zip(candidates.to_pylist(), sources, article_ids, strict=True)
        if (source, article_id) in keys
    ]
    if keep:
        return rows.take(pa.array(match, pa.int64()))
    # The slices between the matching rows, without copying (an article's rows are mostly adjacent).
    slices = []
    start = 0
    for index in [*match, rows.num_rows]:
        if index > start:
            slices.append(rows.slice(start, index - start))
        start = index + 1
    return pa.concat_tables(slices) if slices else rows.slice(0, 0)


def _version_at(dt: DeltaTable, moment: datetime) -> int | None:
    """The table's newest version committed at or before `moment`, by the commit times its history shows
    (`wirestance lake history`); delta-rs's own time travel goes by the log files' modification times, which
    differ from them by a few milliseconds, so a time copied from the history could pick the version before."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    millis = (aware - _EPOCH) // timedelta(milliseconds=1)
    versions = [entry["version"] for entry in dt.history() if entry["timestamp"] <= millis]
    return max(versions, default=None)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _positions(positions: list[int]) -> pa.Array:
    return pa.array(positions, pa.int64())


def _split_by_day(rows: pa.Table, column: str, columns: pa.Schema) -> dict[date, pa.Table]:
    """`rows` (with `columns` and the partition `column`) cut into one table of `columns` per day: slices of
    the rows taken in day order (once, if they are not in it already), keeping their order within a day."""
    days = rows.column(column).to_pylist()
    if None in days:
        raise ValueError(f"a row to store has no {column}")
    data = rows.select(columns.names)
    if any(later < earlier for earlier, later in itertools.pairwise(days)):
        order = sorted(range(len(days)), key=days.__getitem__)
        data, days = data.take(_positions(order)), [days[position] for position in order]
    pieces: dict[date, pa.Table] = {}
    start = 0
    for day, group in itertools.groupby(days):
        length = sum(1 for _ in group)
        pieces[day] = data.slice(start, length)
        start += length
    return pieces


def _paragraph_positions(
    rows: pa.Table, wanted: Container[ArticleKey]
) -> tuple[dict[ArticleKey, list[int]], list[int]]:
    """The positions of each wanted article's paragraph rows (of its last copy, when the rows hold several: a
    copy's rows start again at a paragraph index the previous copy had), and every row's paragraph index."""
    para_indexes = rows.column("para_index").to_pylist()
    keys = zip(rows.column("source").to_pylist(), rows.column("article_id").to_pylist(), strict=True)
    positions: dict[ArticleKey, list[int]] = {}
    indexes_seen: dict[ArticleKey, set[int]] = {}
    for position, (key, para_index) in enumerate(zip(keys, para_indexes, strict=True)):
        if key not in wanted:
            continue
        mine, seen = positions.setdefault(key, []), indexes_seen.setdefault(key, set())
        if para_index in seen:  # a later copy of the article: its paragraphs replace the earlier's
            mine.clear()
            seen.clear()
        mine.append(position)
        seen.add(para_index)
    return positions, para_indexes


def iter_batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
