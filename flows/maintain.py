"""The `maintain-lake` flow: a check that every data file reads, then compaction, vacuum (with the retention
setting) and checkpoints of every lake table; scheduled daily by `wirestance serve`."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from wirestance.lake import Lake
from wirestance.lake.maintain import check, maintain
from wirestance.settings import Settings


@flow(name="maintain-lake")
def maintain_lake(retention_hours: float | None = None) -> list[dict]:
    """Compact each table's small files, vacuum files unreferenced for longer than `retention_hours`
    (default: Settings.lake_retention_hours), checkpoint; fail if a data file is missing or corrupt."""
    settings = Settings.from_env()
    lake = Lake(settings.lake_url)
    retention = settings.lake_retention_hours if retention_hours is None else retention_hours
    logger = get_run_logger()
    # First the check: compaction would stop at a damaged file with a less helpful error.
    damaged = check(lake)
    for problem in damaged:
        logger.error("damaged data file: %s", problem)
    if damaged:
        raise RuntimeError(f"{len(damaged)} damaged data file(s); `wirestance lake restore` restores the tables")
    rows = [report.as_row() for report in maintain(lake, retention_hours=retention)]
    create_table_artifact(key="maintain-lake", table=rows, description=f"Lake maintenance (retention {retention} h)")
    logger.info("maintain-lake: %s", rows)
    return rows
