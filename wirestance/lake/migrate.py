"""Turn a lake of the earlier layout (plain hive-partitioned parquet, one file per day partition, rewritten
under fcntl locks) into Delta tables, in place, idempotently, with the row counts checked.

Each table folder gets a Delta log whose first version names the parquet files already there (nothing is
copied or rewritten: the files are valid Delta data files as they are, their day in the folder name). A
table that already has a log is left alone, so running it again changes nothing; a conversion killed midway
has written no log version yet and simply runs again.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass

import fsspec
import pyarrow as pa
import pyarrow.dataset as ds
from deltalake import Schema, convert_to_deltalake

from wirestance.lake import schema
from wirestance.lake.store import Lake

log = logging.getLogger(__name__)


@dataclass
class TableMigration:
    table: str
    status: str  # converted | already-delta | absent
    rows_before: int = 0
    rows_after: int = 0

    def as_row(self) -> dict[str, int | str]:
        return dict(self.__dict__)


class MigrationCountMismatch(RuntimeError):
    pass


def migrate(lake: Lake) -> list[TableMigration]:
    fs, root = fsspec.core.url_to_fs(lake.url)
    reports = []
    for table in schema.TABLES:
        folder = f"{root.rstrip('/')}/{table}"
        if fs.exists(f"{folder}/_delta_log"):
            reports.append(TableMigration(table, "already-delta", rows_after=_delta_rows(lake, table)))
            continue
        if not fs.exists(folder) or not fs.glob(f"{folder}/*=*/*.parquet"):
            reports.append(TableMigration(table, "absent"))
            continue
        column = schema.partition_column(table)
        old = ds.dataset(
            folder,
            filesystem=fs,
            format="parquet",
            partitioning=ds.partitioning(pa.schema([(column, pa.date32())]), flavor="hive"),
            ignore_prefixes=[".", "_"],  # the old writer's temporary files start with "."
        )
        before = old.count_rows()
        convert_to_deltalake(
            lake.table_uri(table),
            mode="ignore",
            partition_by=Schema.from_arrow(pa.schema([(column, pa.date32())])),
            partition_strategy="hive",
            storage_options=lake.storage_options or None,
        )
        after = _delta_rows(lake, table)
        reports.append(TableMigration(table, "converted", rows_before=before, rows_after=after))
        if before != after:
            raise MigrationCountMismatch(f"{table}: {before} rows in the parquet files, {after} in the Delta table")
        log.info("migrated %s: %d rows", table, after)
    locks = f"{root.rstrip('/')}/_locks"
    if lake.is_local and fs.exists(locks):
        shutil.rmtree(locks)  # the old layout's lock files: no writer takes them any more
    return reports


def _delta_rows(lake: Lake, table: str) -> int:
    dt = lake.delta_table(table)
    return 0 if dt is None else dt.to_pyarrow_dataset().count_rows()
