"""A backfill's chunks without Prefect: each mode through `run_chunk`, the summary rows, the totals line."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

from stand_ins import FakeModel

from wirestance.backfill import ChunkRequest, DateRange, run_chunk, split_range, summary_row, totals
from wirestance.discovery.config import DiscoveryConfig
from wirestance.lake import Lake
from wirestance.replay import ReplayServer
from wirestance.resources import Resources
from wirestance.settings import Settings

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "anadolu_en"


def sample_ids_on(day: date) -> set[str]:
    specs = json.loads((SAMPLE / "articles.json").read_text())
    return {spec["url"].rsplit("/", 1)[1] for spec in specs if spec["published"].startswith(day.isoformat())}


def test_a_feeds_chunk_stores_its_days_and_a_rerun_counts_them_unchanged(
    settings: Settings, sample_server: ReplayServer
):
    day = date(2019, 11, 26)
    (chunk,) = split_range(DateRange(start_date=day, end_date=day), 1, "Europe/Istanbul")
    request = ChunkRequest(feed_base_url=sample_server.base_url)
    with Resources(settings, model=FakeModel()) as resources:
        (row,) = run_chunk(resources, chunk.window, request, "run-1")
        (again,) = run_chunk(resources, chunk.window, request, "run-2")
    stored = set(Lake(settings.lake_url).read("articles").column("article_id").to_pylist())
    assert stored == sample_ids_on(day) and row["new"] == len(stored) > 0
    assert (again["new"], again["unchanged"]) == (0, len(stored))
    assert summary_row(chunk, row) == {
        "chunk": "2019-11-26",
        "source": "anadolu",
        "discovered": row["discovered"],
        "skipped_stored": 0,
        "fetched": len(stored),
        "from_archive": 0,
        "new": len(stored),
        "updated": 0,
        "unchanged": 0,
        "paragraphs": row["paragraphs"],
        "failed": 0,
    }
    assert f"{len(stored)} new" in totals([row])


def test_a_discovery_chunk_reports_like_a_feeds_chunk(settings: Settings, config: DiscoveryConfig, archive_server):
    """November 2019 from the archives' indexes and captures only (as tests/discovery does, through run_chunk)."""
    archive_only = replace(config, fetch_mode="archive", methods=("wayback", "commoncrawl"))
    nov = DateRange(start_date=date(2019, 11, 1), end_date=date(2019, 11, 30), timezone="UTC")
    (chunk,) = split_range(nov, 30, "Europe/Istanbul")
    request = ChunkRequest(feed_base_url=archive_server.base_url, mode="discovery")
    with Resources(settings, model=FakeModel()) as resources:
        (row,) = run_chunk(resources, chunk.window, request, "run-1", discovery=archive_only)
    assert row["new"] == 2 and row["failed"] == 0
    assert row["from_archive"] == row["fetched"] == row["discovered"] == row["out_of_window"] + 2
    stored = Lake(settings.lake_url).read("articles").column("article_id").to_pylist()
    assert sorted(stored) == ["1656284", "1656530"]


def test_an_archive_chunk_reprocesses_what_a_feeds_chunk_fetched(settings: Settings, sample_server: ReplayServer):
    """The default archive step is wirestance.reprocess: no network, the same articles, relabelled."""
    day = date(2019, 11, 26)
    (chunk,) = split_range(DateRange(start_date=day, end_date=day), 1, "Europe/Istanbul")
    with Resources(settings, model=FakeModel()) as resources:
        (fed,) = run_chunk(resources, chunk.window, ChunkRequest(feed_base_url=sample_server.base_url), "run-1")
    archive = ChunkRequest(feed_base_url=sample_server.base_url, reprocess=True, mode="archive")
    with Resources(replace(settings, workers=0), model=FakeModel("champion-2"), archive=False) as resources:
        (row,) = run_chunk(resources, chunk.window, archive, "run-2")
    assert row["discovered"] == fed["new"] == len(sample_ids_on(day)) and row["failed"] == 0
    paragraphs = Lake(settings.lake_url).read("paragraphs").to_pylist()
    assert {p["model_version"] for p in paragraphs} == {"champion-2"}


def test_an_archive_chunk_reports_what_the_archive_holds_as_discovered_and_fetched(settings: Settings):
    (chunk,) = split_range(DateRange(start_date=date(2019, 11, 26), end_date=date(2019, 11, 26)), 1, "Europe/Istanbul")
    seen = {}

    def reprocess(resources, window, sources, hosts, reparse):
        seen.update(window=window, sources=tuple(sources), hosts=list(hosts), reparse=reparse)
        return [{"source": "anadolu", "responses": 5, "articles": 3, "new": 1, "updated": 2, "failed": 0}]

    request = ChunkRequest(mode="archive", feed_base_url="http://127.0.0.1:8080")
    with Resources(settings, model=FakeModel(), archive=False) as resources:
        (row,) = run_chunk(resources, chunk.window, request, "run-1", reprocess_archive=reprocess)
    assert seen == {"window": chunk.window, "sources": ("anadolu",), "hosts": ["127.0.0.1"], "reparse": False}
    assert (row["discovered"], row["fetched"]) == (3, 5)
    assert summary_row(chunk, row)["unchanged"] == 0
