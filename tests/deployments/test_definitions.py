"""Fast checks of the backfill flow's parameters, its chunking, the deployments and the CLI's validation."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from wirestance.deployments import (
    BACKFILL,
    INGEST_LATEST,
    MAINTAIN_LAKE,
    RETRAIN,
    DeploymentConfig,
    build_deployments,
)
from wirestance.deployments.config import DEFAULT_INGEST_CRON, DEFAULT_MAINTAIN_CRON, WEEKLY_RETRAIN_CRON
from wirestance.flows.backfill import DateRange, backfill, split_range, task_runner_from_env
from wirestance.sources import zones_of


def test_chunks_cover_the_range_in_order_with_a_shorter_last_one():
    chunks = split_range(DateRange(start_date=date(2019, 1, 30), end_date=date(2019, 2, 5), timezone="UTC"), 3)
    assert [c.label for c in chunks] == ["2019-01-30..2019-02-01", "2019-02-02..2019-02-04", "2019-02-05"]
    assert [c.index for c in chunks] == [1, 2, 3] and {c.count for c in chunks} == {3}
    assert chunks[0].window.start == datetime(2019, 1, 30, tzinfo=UTC)
    assert chunks[-1].window.end == datetime(2019, 2, 6, tzinfo=UTC)
    for before, after in itertools.pairwise(chunks):
        assert before.window.end == after.window.start


def test_one_day_range_is_one_chunk_and_both_ends_are_included():
    (only,) = split_range(DateRange(start_date=date(2019, 11, 26), end_date=date(2019, 11, 26), timezone="UTC"), 7)
    assert only.window.start == datetime(2019, 11, 26, tzinfo=UTC)
    assert only.window.end == datetime(2019, 11, 27, tzinfo=UTC)


def test_days_are_counted_in_the_agencies_time_zone_by_default():
    dates = DateRange(start_date=date(2019, 11, 26), end_date=date(2019, 11, 27))
    assert dates.timezone == ""  # each source's own zone, from sources.toml
    assert zones_of(["anadolu"]) == {"Europe/Istanbul": ["anadolu"]}
    assert zones_of(["anadolu"], "UTC") == {"UTC": ["anadolu"]}
    (only,) = split_range(dates, 2, "Europe/Istanbul")
    assert only.window.start == datetime(2019, 11, 25, 21, tzinfo=UTC)
    assert only.window.end == datetime(2019, 11, 27, 21, tzinfo=UTC)
    assert only.label == "2019-11-26..2019-11-27"


def test_end_before_start_and_unknown_zones_are_refused_with_clear_messages():
    with pytest.raises(ValidationError) as info:
        DateRange(start_date=date(2019, 12, 2), end_date=date(2019, 12, 1))
    assert "the end date 2019-12-01 is before the start date 2019-12-02" in str(info.value)
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        DateRange(start_date=date(2019, 12, 1), end_date=date(2019, 12, 1), timezone="Mars/Olympus")


def test_parameter_schema_gives_the_ui_titles_descriptions_and_bounds():
    deployment = next(d for d in build_deployments(DeploymentConfig()) if d.name == "backfill")
    schema = deployment._parameter_openapi_schema.model_dump_for_openapi()
    assert schema["required"] == ["dates"]
    properties = schema["properties"]
    assert list(properties) == ["dates", "sources", "categories", "reprocess", "chunk_days", "feed_base_url", "mode"]
    assert properties["chunk_days"]["minimum"] == 1 and properties["chunk_days"]["maximum"] == 366
    assert properties["chunk_days"]["default"] == 1
    assert properties["sources"]["default"] is None  # every enabled source of the registry
    assert "one after another" in properties["chunk_days"]["description"]
    dates = schema["definitions"]["DateRange"]
    assert dates["properties"]["start_date"] == {
        "description": "First day to ingest, included.",
        "format": "date",
        "title": "First day",
        "type": "string",
    }
    assert dates["properties"]["days"]["minimum"] == 1 and dates["properties"]["days"]["title"] == "Number of days"
    assert dates["properties"]["timezone"]["default"] == ""
    assert dates["required"] == ["start_date", "days"]
    assert properties["mode"]["enum"] == ["auto", "feeds", "discovery", "archive"]
    assert properties["mode"]["default"] == "auto"


def test_the_servers_schema_check_refuses_a_range_that_ends_before_it_starts():
    """What the UI's form and the API check a run's parameters with (Prefect's jsonschema validation): a
    number of days below 1 is refused with the reason, on the field; an end date is no field of the form."""
    from prefect.utilities.schema_tools.validation import build_error_obj, validate

    deployment = next(d for d in build_deployments(DeploymentConfig()) if d.name == "backfill")
    schema = deployment._parameter_openapi_schema.model_dump_for_openapi()
    assert validate({"dates": {"start_date": "2019-07-10", "days": 11}}, schema) == []
    refused = build_error_obj(validate({"dates": {"start_date": "2019-07-20", "days": 0}}, schema))
    assert refused == {
        "valid": False,
        "errors": [
            {"property": "dates", "errors": [{"property": "days", "errors": ["0 is less than the minimum of 1"]}]}
        ],
    }
    errors = validate({"dates": {"start_date": "2019-07-20", "end_date": "2019-07-10"}}, schema)
    assert any("'end_date' was unexpected" in error.message for error in errors)
    assert any("'days' is a required property" in error.message for error in errors)


def test_python_callers_may_give_the_last_day_instead_of_the_number_of_days():
    dates = DateRange(start_date=date(2019, 7, 10), end_date=date(2019, 7, 20))
    assert dates == DateRange(start_date=date(2019, 7, 10), days=11) and dates.end_date == date(2019, 7, 20)
    assert DateRange.model_validate({"start_date": "2019-07-10", "end_date": "2019-07-10"}).days == 1
    with pytest.raises(ValidationError, match="not both"):
        DateRange.model_validate({"start_date": "2019-07-10", "end_date": "2019-07-10", "days": 1})
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        DateRange(start_date=date(2019, 7, 10), days=0)


def test_deployments_names_schedules_and_module_entrypoints():
    built = {f"{d.flow_name}/{d.name}": d for d in build_deployments(DeploymentConfig())}
    assert set(built) == {INGEST_LATEST, BACKFILL, RETRAIN, MAINTAIN_LAKE}
    crons = {name: [s.schedule.cron for s in d.schedules or []] for name, d in built.items()}  # type: ignore[union-attr]
    assert crons == {
        INGEST_LATEST: [DEFAULT_INGEST_CRON],
        BACKFILL: [],
        RETRAIN: [],
        MAINTAIN_LAKE: [DEFAULT_MAINTAIN_CRON],
    }
    assert built[MAINTAIN_LAKE].entrypoint == "wirestance.flows.maintain.maintain_lake"
    assert built[BACKFILL].entrypoint == "wirestance.flows.backfill.backfill"
    assert built[INGEST_LATEST].entrypoint == "wirestance.flows.ingest.ingest_latest"


def test_schedule_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WIRESTANCE_INGEST_CRON", "off")
    monkeypatch.setenv("WIRESTANCE_RETRAIN_CRON", "weekly")
    monkeypatch.setenv("WIRESTANCE_SCHEDULE_TIMEZONE", "Europe/Istanbul")
    config = DeploymentConfig.from_env()
    assert config == DeploymentConfig(
        ingest_cron=None,
        retrain_cron=WEEKLY_RETRAIN_CRON,
        maintain_cron=DEFAULT_MAINTAIN_CRON,
        timezone="Europe/Istanbul",
    )
    built = {d.name: d for d in build_deployments(config)}
    assert not built["ingest-latest"].schedules
    (schedule,) = built["retrain"].schedules or []
    assert (schedule.schedule.cron, schedule.schedule.timezone) == (WEEKLY_RETRAIN_CRON, "Europe/Istanbul")  # type: ignore[union-attr]
    monkeypatch.setenv("WIRESTANCE_INGEST_CRON", "every half hour")
    with pytest.raises(ValueError, match="five-field cron"):
        DeploymentConfig.from_env()


def test_task_runner_setting(monkeypatch: pytest.MonkeyPatch):
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    monkeypatch.delenv("WIRESTANCE_TASK_RUNNER", raising=False)
    runner = task_runner_from_env()
    assert isinstance(runner, ThreadPoolTaskRunner) and runner._max_workers == 1
    monkeypatch.setenv("WIRESTANCE_TASK_RUNNER", "dask")
    assert isinstance(task_runner_from_env(), DaskTaskRunner)
    monkeypatch.setenv("WIRESTANCE_TASK_RUNNER", "ray")
    with pytest.raises(ValueError, match="expected 'thread' or 'dask'"):
        task_runner_from_env()
    assert isinstance(backfill.task_runner, ThreadPoolTaskRunner | DaskTaskRunner)


def test_cli_backfill_refuses_an_end_before_the_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    from wirestance.cli import main

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.setenv("WIRESTANCE_LAKE_URL", str(tmp_path / "lake"))
    assert main(["backfill", "--since", "2019-12-02", "--until", "2019-12-01"]) == 2
    err = capsys.readouterr().err
    assert "the end date 2019-12-01 is before the start date 2019-12-02" in err
    assert main(["backfill", "--since", "2019-12-01", "--until", "2019-12-02", "--chunk-days", "0"]) == 2
    assert "--chunk-days must be between 1 and 366" in capsys.readouterr().err
    assert not (tmp_path / "lake").exists()
