"""Keeping the lake's tables healthy: compaction, vacuum, checkpoints; finding damaged data files and
restoring a table to its newest version whose files are all whole.

Every upsert adds small files; compaction rewrites each partition's small files into few large ones (a new
version: readers of older versions are not disturbed), vacuum deletes files no version newer than the
retention period needs, and a checkpoint lets readers load the log without replaying every commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable, WriterProperties

from wirestance.lake import schema
from wirestance.lake.store import Lake, ReadOnlyLakeError, with_commit_retries

log = logging.getLogger(__name__)

#: Compaction target: data files grow to about this size.
TARGET_FILE_BYTES = 128 * 1024 * 1024


@dataclass
class TableMaintenance:
    table: str
    version_before: int
    version_after: int
    files_before: int
    files_after: int
    max_files_per_partition_before: int
    max_files_per_partition_after: int
    files_compacted: int = 0
    files_vacuumed: int = 0  # unreferenced files past the retention that vacuum deleted (or found gone)

    def as_row(self) -> dict[str, int | str]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class DamagedFile:
    table: str
    path: str  # the data file as the table's log names it (relative to the table)
    reason: str

    def __str__(self) -> str:
        return f"{self.table}: {self.path}: {self.reason}"


@dataclass
class RestoreReport:
    table: str
    damaged: list[DamagedFile] = field(default_factory=list)
    restored_from: int | None = None  # the version that was current
    restored_to: int | None = None  # the version restored (None: nothing to do)


def maintain(lake: Lake, retention_hours: float, tables: list[str] | None = None) -> list[TableMaintenance]:
    """Compact, vacuum (files unreferenced for longer than `retention_hours`) and checkpoint every table."""
    _check_writable(lake)
    reports = []
    for table in tables or list(schema.TABLES):
        dt = lake.delta_table(table)
        if dt is None:
            continue
        before = _files_per_partition(dt, table)
        version_before = dt.version()

        def compact(table: str = table) -> dict:
            current = lake.delta_table(table)
            assert current is not None
            return current.optimize.compact(
                target_size=TARGET_FILE_BYTES, writer_properties=WriterProperties(compression="ZSTD")
            )

        metrics = with_commit_retries(compact, f"compact {table}")
        dt = lake.delta_table(table)
        assert dt is not None
        dt.create_checkpoint()
        vacuumed = dt.vacuum(
            retention_hours=max(0, int(retention_hours)),
            dry_run=False,
            enforce_retention_duration=False,  # the retention is ours to set (Settings.lake_retention_hours)
        )
        dt.cleanup_metadata()  # log files older than the log retention, now that a checkpoint covers them
        after = _files_per_partition(dt, table)
        reports.append(
            TableMaintenance(
                table=table,
                version_before=version_before,
                version_after=dt.version(),
                files_before=sum(before.values()),
                files_after=sum(after.values()),
                max_files_per_partition_before=max(before.values(), default=0),
                max_files_per_partition_after=max(after.values(), default=0),
                files_compacted=int(metrics.get("numFilesRemoved", 0)),
                files_vacuumed=len(vacuumed),
            )
        )
        log.info("maintained %s: %s", table, reports[-1])
    return reports


def check(lake: Lake, tables: list[str] | None = None) -> list[DamagedFile]:
    """Every data file the current version of each table names, opened and its footer read: the missing
    and the corrupt ones, with their paths."""
    damaged: list[DamagedFile] = []
    for table in tables or list(schema.TABLES):
        dt = lake.delta_table(table)
        if dt is not None:
            damaged.extend(_damaged_files(dt, table, {}))
    return damaged


def restore(lake: Lake, tables: list[str] | None = None) -> list[RestoreReport]:
    """Restore each table with damaged files to its newest version whose files are all whole.

    The commits after that version are undone (their rows come back with the next run that writes them:
    ingest and reprocess rewrite whatever the lake lacks); the damaged files stay on disk, unreferenced,
    until vacuum removes them.
    """
    _check_writable(lake)
    reports = []
    for table in tables or list(schema.TABLES):
        dt = lake.delta_table(table)
        if dt is None:
            continue
        verdicts: dict[str, str | None] = {}
        report = RestoreReport(table=table, damaged=_damaged_files(dt, table, verdicts))
        reports.append(report)
        if not report.damaged:
            continue
        current = dt.version()
        report.restored_from = current
        for version in range(current - 1, -1, -1):
            candidate = lake.delta_table(table)
            assert candidate is not None
            try:
                candidate.load_as_version(version)
            except Exception as error:  # log files of older versions may have been cleaned up
                log.warning("%s: version %d cannot be loaded (%s)", table, version, error)
                break
            if not _damaged_files(candidate, table, verdicts):
                dt.restore(version)
                report.restored_to = version
                log.warning("%s: restored version %d (damaged: %s)", table, version, report.damaged)
                break
        if report.restored_to is None:
            raise RuntimeError(f"{table}: no version without damaged files: {[str(d) for d in report.damaged]}")
    return reports


def _damaged_files(dt: DeltaTable, table: str, verdicts: dict[str, str | None]) -> list[DamagedFile]:
    """The damaged files of this version; `verdicts` caches each file's check across versions."""
    dataset = dt.to_pyarrow_dataset()
    root = dt.table_uri.rstrip("/")
    damaged = []
    for fragment in dataset.get_fragments():
        path = fragment.path
        if path not in verdicts:
            verdicts[path] = _file_problem(dataset.filesystem, path)
        problem = verdicts[path]
        if problem is not None:
            relative = path.split(root.split("://", 1)[-1].lstrip("/"), 1)[-1].lstrip("/")
            damaged.append(DamagedFile(table=table, path=relative, reason=problem))
    return damaged


def _file_problem(filesystem, path: str) -> str | None:
    try:
        with filesystem.open_input_file(path) as handle:
            metadata = pq.ParquetFile(handle).metadata
            if metadata.num_row_groups:
                pq.ParquetFile(handle).read_row_group(0, columns=[])
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        if "not found" in str(error).lower() or "no such file" in str(error).lower():
            return "missing"
        return f"unreadable: {error}"
    except Exception as error:
        return f"unreadable: {error}"
    return None


def _files_per_partition(dt: DeltaTable, table: str) -> dict[str, int]:
    column = schema.partition_column(table)
    actions = pa.table(dt.get_add_actions(flatten=True))
    counts: dict[str, int] = {}
    for value in actions.column(f"partition.{column}").to_pylist():
        counts[str(value)] = counts.get(str(value), 0) + 1
    return counts


def _check_writable(lake: Lake) -> None:
    if lake.as_of is not None:
        raise ReadOnlyLakeError(f"{lake.url} is opened as of {lake.as_of}: it is read-only")
