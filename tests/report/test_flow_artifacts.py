"""What a run leaves in Prefect: the stance summary after ingest and backfill, and backfill's own artifacts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from wirestance.backfill import DateRange
from wirestance.flows.backfill import backfill
from wirestance.flows.ingest import ingest
from wirestance.replay import ReplayServer, ReplaySite

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


def test_backfill_leaves_its_summary_and_the_stance_summary(run_env: Path, sample: ReplayServer):
    dates = DateRange(start_date=date(2019, 11, 26), end_date=date(2019, 12, 15))
    state = backfill(dates=dates, chunk_days=10, feed_base_url=sample.base_url, return_state=True)
    assert state.is_completed()
    rows = state.result()
    artifacts = _artifacts(state.state_details.flow_run_id)
    ((_, table),) = artifacts["backfill-summary"]
    assert table == rows and sum(row["new"] for row in rows) == 3
    ((_, markdown),) = artifacts["stance-summary"]
    assert "backfill 2019-11-26..2019-12-15" in markdown and "| anadolu |" in markdown
    assert (run_env / "reports" / "stance-report_2019-11-26_2019-12-15_week.html").is_file()
