"""`wirestance export`: the flat paragraph table as CSV, parquet or xlsx."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from wirestance.report.data import EXPORT_COLUMNS

ExportFormat = Literal["csv", "parquet", "xlsx"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "parquet", "xlsx")
#: Excel's row limit, header included.
XLSX_MAX_ROWS = 1_048_576


def export_table(paragraphs: pd.DataFrame) -> pd.DataFrame:
    """The export's columns, in order (topic columns follow when the lake has them)."""
    extra = [c for c in ("on_topic", "topic_score") if c in paragraphs.columns]
    return paragraphs[[*EXPORT_COLUMNS, *extra]].reset_index(drop=True)


def write_export(paragraphs: pd.DataFrame, out: str | Path, fmt: ExportFormat) -> int:
    """Write the table to `out` in `fmt`; `published_date` is a date type in parquet and xlsx, ISO text
    (YYYY-MM-DD) in CSV. Returns the rows written."""
    table = export_table(paragraphs)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "csv":
        table.to_csv(tmp, index=False, date_format="%Y-%m-%d")
    elif fmt == "parquet":
        arrow = pa.Table.from_pandas(table, preserve_index=False)
        index = arrow.schema.get_field_index("published_date")
        arrow = arrow.set_column(index, "published_date", arrow.column("published_date").cast(pa.date32()))
        pq.write_table(arrow, tmp)
    elif fmt == "xlsx":
        if len(table) + 1 > XLSX_MAX_ROWS:
            raise ValueError(
                f"{len(table)} rows do not fit in one Excel sheet ({XLSX_MAX_ROWS - 1} at most); "
                "narrow the window or export csv or parquet"
            )
        with pd.ExcelWriter(tmp, engine="openpyxl", date_format="YYYY-MM-DD") as writer:
            table.to_excel(writer, index=False, sheet_name="paragraphs")
    else:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    tmp.replace(path)
    return len(table)
