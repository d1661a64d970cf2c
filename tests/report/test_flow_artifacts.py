"""What a run leaves in Prefect: the stance summary after ingest and backfill, and backfill's own artifacts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from registry_copy import copy_registry

from wirestance.backfill import DateRange
from wirestance.flows.backfill import backfill
from wirestance.flows.ingest import ingest
from wirestance.replay import ReplayServer, ReplaySite

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "anadolu_en"


@pytest.fixture
def run_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, labeled_champion: Path) -> Path:
    copy_registry(labeled_champion, tmp_path / "models")
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


def _log_lines(run_id: UUID, last: str, timeout: float = 60.0) -> list[str]:
    """The run's log lines, once the one starting with `last` has arrived (logs reach the API in batches,
    a moment after the run ends)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
            lines = [log.message for log in sorted(logs, key=lambda log: log.timestamp)]
            if any(line.startswith(last) for line in lines) or time.monotonic() > deadline:
                return lines
            time.sleep(0.5)


def test_backfill_artifacts_are_named_by_days_with_a_totals_row_and_whole_percents(run_env: Path, sample: ReplayServer):
    dates = DateRange(start_date=date(2019, 11, 26), end_date=date(2019, 12, 15))
    state = backfill(dates=dates, chunk_days=10, feed_base_url=sample.base_url, return_state=True)
    assert state.is_completed()
    rows = state.result()
    run_id = state.state_details.flow_run_id
    artifacts = _artifacts(run_id)
    assert "ingest-summary" not in artifacts  # one table per chunk, named by its days instead
    ((first_text, first),) = artifacts["backfill-2019-11-26-to-2019-12-05"]
    ((second_text, second),) = artifacts["backfill-2019-12-06-to-2019-12-15"]
    assert first_text == "Backfill chunk 1 of 2: 2019-11-26 to 2019-12-05 (days in Europe/Istanbul), one row per source"
    assert second_text.startswith("Backfill chunk 2 of 2: 2019-12-06 to 2019-12-15")
    assert [row["new"] for row in first] == [2] and [row["new"] for row in second] == [1]
    ((summary_text, table),) = artifacts["backfill-summary"]
    assert "the last row is the total" in summary_text
    assert table[:-1] == rows == first + second
    total = table[-1]
    assert total["chunk"] == "total" and total["source"] == "anadolu"
    assert total["new"] == 3 and total["discovered"] == sum(row["discovered"] for row in rows)
    assert set(total) == set(rows[0])  # no column left out of the totals
    progress = [data for _, data in artifacts["backfill-progress"]]
    assert progress[-1] == 100 and all(float(value).is_integer() for value in progress)
    ((_, markdown),) = artifacts["stance-summary"]
    assert "backfill 2019-11-26..2019-12-15" in markdown and "| anadolu |" in markdown
    assert (run_env / "reports" / "stance-report_2019-11-26_2019-12-15_week.html").is_file()

    lines = _log_lines(run_id, "Backfill 2019-11-26..2019-12-15 is done: ")
    assert any(
        line.startswith("The backfill reads the sources' feeds: the feeds list articles back to 2017-09-12T00:00+03:00")
        for line in lines
    ), lines  # no mode given: auto, and the range is within the feeds' reach
    assert "Chunk 1 of 2 (2019-11-26 to 2019-12-05) is stored, 50% done: " in "\n".join(lines)
    assert any(line.startswith("Backfill 2019-11-26..2019-12-15 is done: ") for line in lines)
    assert not [line for line in lines if "{'" in line], "a log line shows a Python dict"
