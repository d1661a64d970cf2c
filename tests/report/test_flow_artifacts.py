"""What a run leaves in Prefect: the stance summary after ingest and backfill, and backfill's own artifacts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from wirestance.flows.backfill import DateRange, archive_has_days, backfill, choose_mode, feeds_horizon
from wirestance.flows.ingest import ingest, runtime_for
from wirestance.replay import ReplayServer, ReplaySite
from wirestance.settings import Settings

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "anadolu_en"


@pytest.fixture
def run_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in {
        "WIRESTANCE_LAKE_URL": str(tmp_path / "lake"),
        "WIRESTANCE_RAW_URL": str(tmp_path / "raw"),
        "WIRESTANCE_MODELS_DIR": str(tmp_path / "models"),
        "WIRESTANCE_REPORTS_DIR": str(tmp_path / "reports"),
        "WIRESTANCE_PER_HOST_DELAY": "0",
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path


@pytest.fixture
def sample() -> Iterator[ReplayServer]:
    with ReplayServer(ReplaySite(SAMPLE)) as server:
        yield server


def _artifacts(run_id: UUID) -> dict[str, list[Any]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    by_key: dict[str, list[Any]] = {}
    for artifact in sorted(found, key=lambda a: str(a.created)):
        data = (
            json.loads(artifact.data) if artifact.type == "table" and isinstance(artifact.data, str) else artifact.data
        )
        by_key.setdefault(artifact.key or "", []).append((artifact.description, data))
    return by_key


def test_ingest_leaves_a_stance_summary_with_the_report_path(run_env: Path, sample: ReplayServer):
    state = ingest(
        start=datetime(2019, 11, 25, 21, tzinfo=UTC),
        end=datetime(2019, 11, 27, 21, tzinfo=UTC),
        feed_base_url=sample.base_url,
        return_state=True,
    )
    assert state.is_completed()
    artifacts = _artifacts(state.state_details.flow_run_id)
    ((description, markdown),) = artifacts["stance-summary"]
    assert description == "Stance of the coverage, ingest 2019-11-26 to 2019-11-27"  # Istanbul days
    assert "| anadolu |" in markdown and "| all agencies |" in markdown
    report = run_env / "reports" / "stance-report_2019-11-26_2019-11-27_week.html"
    assert report.is_file() and str(report) in markdown


def test_backfill_artifacts_are_named_by_days_with_a_totals_row(run_env: Path, sample: ReplayServer):
    dates = DateRange(start_date=date(2019, 11, 26), end_date=date(2019, 12, 15))
    state = backfill(dates=dates, chunk_days=10, feed_base_url=sample.base_url, return_state=True)
    assert state.is_completed()
    rows = state.result()
    artifacts = _artifacts(state.state_details.flow_run_id)
    assert "ingest-summary" not in artifacts  # one table per chunk, named by its days instead
    (first,) = artifacts["backfill-2019-11-26-to-2019-12-05"]
    (second,) = artifacts["backfill-2019-12-06-to-2019-12-15"]
    assert first[0] == "Backfill chunk 1 of 2: 2019-11-26 to 2019-12-05 (days in Europe/Istanbul), per source"
    assert [row["new"] for row in first[1]] == [2] and [row["new"] for row in second[1]] == [1]
    (summary,) = artifacts["backfill-summary"]
    table = summary[1]
    assert table[:-1] == rows and table[-1]["chunk"] == "total"
    assert table[-1]["new"] == 3 and table[-1]["discovered"] == sum(row["discovered"] for row in rows)
    progress = [data for _, data in artifacts["backfill-progress"]]
    assert progress[-1] == 100
    ((_, markdown),) = artifacts["stance-summary"]
    assert "backfill 2019-11-26..2019-12-15" in markdown and "| anadolu |" in markdown


def test_auto_mode_reads_the_feeds_horizon_and_the_archive(run_env: Path, sample: ReplayServer):
    settings = Settings.from_env()
    horizon = feeds_horizon(runtime_for(settings), ["anadolu"], None, sample.base_url)
    assert horizon == datetime(2017, 9, 11, 21, tzinfo=UTC)  # the sample's oldest feed item, Istanbul midnight
    before = datetime(2017, 9, 1, tzinfo=UTC)
    assert choose_mode(datetime(2019, 1, 1, tzinfo=UTC), horizon, False)[0] == "feeds"
    mode, why = choose_mode(before, horizon, False)
    assert mode == "discovery" and "before the oldest article the feeds list (2017-09-12T00:00+03:00)" in why
    assert choose_mode(before, horizon, True)[0] == "archive"
    assert choose_mode(before, None, False) == (
        "discovery",
        "the feeds list no article and the raw archive holds no page fetched on those days",
    )
    # The horizon's feeds are no article pages; an ingest now archives articles fetched today, none in 2017.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert not archive_has_days(settings, ["anadolu"], today, datetime.now(UTC), sample.base_url)
    ingest(
        start=datetime(2019, 11, 25, tzinfo=UTC), end=datetime(2019, 11, 27, tzinfo=UTC), feed_base_url=sample.base_url
    )
    assert archive_has_days(settings, ["anadolu"], today, datetime.now(UTC), sample.base_url)
    assert not archive_has_days(settings, ["anadolu"], before.replace(day=1), before, sample.base_url)
