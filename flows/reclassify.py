"""The `reclassify` flow: relabel stored paragraphs with the current champion model."""

from __future__ import annotations

from dataclasses import asdict

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from wirestance.flows.ingest import champion_model, runtime_for
from wirestance.relabel import relabel_paragraphs
from wirestance.settings import Settings


@flow(name="reclassify")
def reclassify() -> dict[str, int | str]:
    """Relabel every paragraph whose model version is not the champion's (idempotent)."""
    settings = Settings.from_env()
    model = champion_model(settings)
    counts = relabel_paragraphs(runtime_for(settings).lake, model)
    summary = {"model_version": model.version, **asdict(counts)}
    get_run_logger().info("reclassify: %s", summary)
    create_table_artifact(key="reclassify-summary", table=[summary], description="Paragraphs relabelled")
    return summary
