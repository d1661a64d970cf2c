"""The `reclassify` flow: relabel stored paragraphs with the current champion model."""

from __future__ import annotations

from collections.abc import Callable

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from wirestance.flows.resources import open_resources
from wirestance.relabel import reclassify as reclassify_lake
from wirestance.settings import Settings

#: Called once per lake partition read, in the process that runs the flow: `wirestance reclassify` moves
#: its progress bar with it. Empty unless a caller adds one.
PARTITION_LISTENERS: list[Callable[[], None]] = []


def _partition_read() -> None:
    for listener in PARTITION_LISTENERS:
        listener()


@flow(name="reclassify")
def reclassify(settings: Settings | None = None) -> dict[str, int | str]:
    """Relabel every paragraph whose model version is not the champion's (idempotent)."""
    with open_resources(settings) as resources:
        summary = reclassify_lake(resources, _partition_read)
    get_run_logger().info("reclassify: %s", summary)
    create_table_artifact(key="reclassify-summary", table=[summary], description="Paragraphs relabelled")
    return summary
