"""The `backfill` flow's modes end to end: past-date discovery from the archives, then a reprocess."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from archive_server import ArchiveServer

from wirestance.flows.backfill import DateRange, backfill
from wirestance.lake import Lake

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def flow_env(tmp_path: Path, archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    base = archive_server.base_url
    for name, value in {
        "WIRESTANCE_LAKE_URL": str(tmp_path / "lake"),
        "WIRESTANCE_RAW_URL": str(tmp_path / "raw"),
        "WIRESTANCE_MODELS_DIR": str(tmp_path / "models"),
        "WIRESTANCE_PER_HOST_DELAY": "0",
        "WIRESTANCE_DISCOVERY_WAYBACK_BASE": base,
        "WIRESTANCE_DISCOVERY_CC_INDEX_BASE": base,
        "WIRESTANCE_DISCOVERY_CC_DATA_BASE": base,
        "WIRESTANCE_DISCOVERY_METHODS": "wayback,commoncrawl",
        "WIRESTANCE_DISCOVERY_FETCH_MODE": "archive",
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path / "lake"


def test_discovery_backfill_then_archive_reprocess(flow_env: Path, archive_server: ArchiveServer):
    november = DateRange(start_date=date(2019, 11, 1), end_date=date(2019, 11, 30))
    rows = backfill(dates=november, chunk_days=15, mode="discovery", feed_base_url=archive_server.base_url)
    assert len(rows) == 2  # two chunks, one source
    assert sum(r["new"] for r in rows) == 2 and sum(r["failed"] for r in rows) == 0
    lake = Lake(str(flow_env))
    stored = lake.read("articles").to_pandas()
    assert sorted(stored["article_id"]) == ["1656284", "1656530"]
    assert set(stored["parser_version"]) == {"anadolu/legacy-v1"}
    assert stored["capture_origin"].notna().all()
    paragraphs = lake.read("paragraphs").to_pandas()

    again = backfill(dates=november, chunk_days=30, mode="discovery", feed_base_url=archive_server.base_url)
    assert sum(r["skipped_stored"] for r in again) == 2 and sum(r["new"] for r in again) == 0

    # Reprocess from the raw archive those fetches left: the same rows again, without the network.
    hits_before = archive_server.hits("/")
    rerun = backfill(dates=november, mode="archive", reprocess=True)
    assert archive_server.hits("/") == hits_before
    # Same content, parser and model as stored: nothing to label, nothing to write (issue 13: labels reused).
    assert sum(r["new"] for r in rerun) == 0 and sum(r["updated"] for r in rerun) == 0
    assert sum(r["unchanged"] for r in rerun) == 2
    again_paragraphs = lake.read("paragraphs").to_pandas()
    assert len(again_paragraphs) == len(paragraphs)
    assert not again_paragraphs.duplicated(["source", "article_id", "para_index"]).any()
