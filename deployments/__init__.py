"""The Prefect deployments of wirestance, as served by `wirestance serve`.

- `ingest-latest/ingest-latest`: `flows.ingest.ingest_latest` on a cron (every 30 minutes by default).
- `backfill/backfill`: `flows.backfill.backfill`, no schedule: run it from the UI, the CLI or Python.
- `retrain/retrain`: `flows.retrain.retrain`, no schedule unless WIRESTANCE_RETRAIN_CRON is set.
- `maintain-lake/maintain-lake`: `flows.maintain.maintain_lake`, daily (WIRESTANCE_MAINTAIN_CRON).

Entry points are module paths (`flows.backfill.backfill`), so a served run imports the installed package
whatever the working directory. For a work pool and workers instead of `serve`, see deployments/prefect.yaml.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from wirestance.deployments.config import DeploymentConfig
from wirestance.deployments.forms import apply_form

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Schedule

INGEST_LATEST = "ingest-latest/ingest-latest"
BACKFILL = "backfill/backfill"
RETRAIN = "retrain/retrain"
MAINTAIN_LAKE = "maintain-lake/maintain-lake"
TAGS = ["wirestance"]

__all__ = [
    "BACKFILL",
    "INGEST_LATEST",
    "MAINTAIN_LAKE",
    "RETRAIN",
    "DeploymentConfig",
    "backfill_deployment",
    "build_deployments",
    "ingest_latest_deployment",
    "maintain_lake_deployment",
    "retrain_deployment",
]


def _settings_from_the_environment(deployment: RunnerDeployment) -> RunnerDeployment:
    """A served run takes its settings from the environment of the process that runs it (WIRESTANCE_*), so
    the flows' `settings` parameter (for in-process callers such as the CLI) is no field of the UI's form."""
    schema = deployment._parameter_openapi_schema
    schema.properties.pop("settings", None)
    if schema.definitions:
        schema.definitions.pop("Settings", None)
    return deployment


def _schedules(cron: str | None, timezone: str) -> list[Schedule] | None:
    if cron is None:
        return None
    from prefect.schedules import Cron

    return [Cron(cron, timezone=timezone)]


def ingest_latest_deployment(config: DeploymentConfig) -> RunnerDeployment:
    from prefect.deployments.runner import EntrypointType

    from wirestance.flows.ingest import ingest_latest

    deployment = ingest_latest.to_deployment(
        name="ingest-latest",
        schedules=_schedules(config.ingest_cron, config.timezone),
        description=(
            "Scheduled ingest: the window ends at the run's scheduled time and reaches back "
            "lookback_minutes + overlap_minutes, so a late or skipped run loses nothing."
        ),
        tags=[*TAGS, "scheduled"],
        concurrency_limit=1,  # a slow run and the next scheduled one never overlap
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    # to_deployment is sync here (it dispatches on the context)
    return apply_form(_settings_from_the_environment(cast("RunnerDeployment", deployment)), "ingest-latest")


def backfill_deployment(config: DeploymentConfig) -> RunnerDeployment:
    from prefect.deployments.runner import EntrypointType

    from wirestance.flows.backfill import backfill

    deployment = backfill.to_deployment(
        name="backfill",
        description=(
            "Ingest a date range (both days included, in each source's own time zone), chunk after chunk. "
            "Idempotent: run it again over the same range after a failure or a cancel."
        ),
        tags=[*TAGS, "backfill"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    # to_deployment is sync here (it dispatches on the context)
    return apply_form(_settings_from_the_environment(cast("RunnerDeployment", deployment)), "backfill")


def retrain_deployment(config: DeploymentConfig) -> RunnerDeployment | None:
    """None while flows/retrain.py is not in this checkout."""
    from prefect.deployments.runner import EntrypointType

    try:
        from wirestance.flows.retrain import retrain
    except ModuleNotFoundError as exc:
        if exc.name == "wirestance.flows.retrain":
            return None
        raise
    deployment = retrain.to_deployment(
        name="retrain",
        schedules=_schedules(config.retrain_cron, config.timezone),
        description="Train a challenger on the labelled data; promote it only if it passes the gate.",
        tags=[*TAGS, "model"],
        concurrency_limit=1,  # two retrains at once would race for the champion pointer
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    # to_deployment is sync here (it dispatches on the context)
    return apply_form(_settings_from_the_environment(cast("RunnerDeployment", deployment)), "retrain")


def maintain_lake_deployment(config: DeploymentConfig) -> RunnerDeployment:
    from prefect.deployments.runner import EntrypointType

    from wirestance.flows.maintain import maintain_lake

    deployment = maintain_lake.to_deployment(
        name="maintain-lake",
        schedules=_schedules(config.maintain_cron, config.timezone),
        description="Compact, vacuum (Settings.lake_retention_hours) and checkpoint the lake's tables; check files.",
        tags=[*TAGS, "maintenance"],
        concurrency_limit=1,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    return cast("RunnerDeployment", deployment)  # to_deployment is sync here (it dispatches on the context)


def build_deployments(config: DeploymentConfig | None = None) -> list[RunnerDeployment]:
    config = config or DeploymentConfig.from_env()
    built = [
        ingest_latest_deployment(config),
        backfill_deployment(config),
        retrain_deployment(config),
        maintain_lake_deployment(config),
    ]
    return [deployment for deployment in built if deployment is not None]
