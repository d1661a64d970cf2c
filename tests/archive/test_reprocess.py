"""Reprocess: from the raw archive back to the lake, with no network, equal to a fresh ingest."""

from __future__ import annotations

import hashlib
import re
import shutil
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from archive_server import SAMPLE
from stand_ins import FakeModel

from wirestance.lake import Lake
from wirestance.pipeline import Window, discover, process_batch
from wirestance.replay import ReplayServer, ReplaySite
from wirestance.reprocess import run_reprocess
from wirestance.resources import Resources
from wirestance.settings import Settings
from wirestance.sources import get_source

ALL_TIME = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


def ingest_with_archive(settings: Settings, model: FakeModel) -> int:
    """A fresh ingest of the sample site through the pipeline, its fetcher recording to the raw archive."""
    source = get_source("anadolu")
    with Resources(settings) as resources, ReplayServer(ReplaySite(SAMPLE)) as server:
        found = discover(resources, source.name, None, ALL_TIME, server.base_url)
        outcome = process_batch(resources, source.name, [i.url for i in found.items], model, server.base_url)
    assert not outcome.failures
    return outcome.counts.new


def table_rows(lake: Lake, table: str) -> list[dict]:
    keys = ("source", "article_id", "para_index") if table == "paragraphs" else ("source", "article_id")
    return sorted(lake.read(table).to_pylist(), key=lambda r: tuple(r[k] for k in keys))


def files_on_disk(root: Path) -> dict[str, tuple[str, float]]:
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_reprocess_rebuilds_the_lake_a_fresh_ingest_made_without_network(
    settings: Settings, model: FakeModel, monkeypatch: pytest.MonkeyPatch
):
    stored = ingest_with_archive(settings, model)
    lake = Lake(settings.lake_url)
    fresh = {t: table_rows(lake, t) for t in ("articles", "paragraphs")}
    assert stored == len(fresh["articles"]) > 20
    raw_before = files_on_disk(Path(settings.raw_url))
    # Only the raw archive and its index are left of the lake.
    shutil.rmtree(Path(settings.lake_url) / "articles")
    shutil.rmtree(Path(settings.lake_url) / "paragraphs")

    def refuse(self: socket.socket, address: object) -> None:
        raise AssertionError(f"reprocess opened a connection to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    [row] = run_reprocess(settings, ALL_TIME, ["anadolu"], model, hosts=["127.0.0.1"])
    monkeypatch.undo()

    assert row["new"] == stored and row["failed"] == 0 and row["corrupt_records"] == 0
    rebuilt = Lake(settings.lake_url)
    assert table_rows(rebuilt, "articles") == fresh["articles"]
    assert table_rows(rebuilt, "paragraphs") == fresh["paragraphs"]
    assert files_on_disk(Path(settings.raw_url)) == raw_before


@pytest.mark.usefixtures("prefect_harness")
def test_cli_reprocess_runs_the_flow(
    settings: Settings, model: FakeModel, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    ingest_with_archive(settings, model)
    monkeypatch.setenv("WIRESTANCE_LAKE_URL", settings.lake_url)
    monkeypatch.setenv("WIRESTANCE_RAW_URL", settings.raw_url)

    import wirestance.flows.reprocess

    monkeypatch.setattr(wirestance.flows.reprocess, "champion_ref", lambda settings: FakeModel("champion-2"))
    from wirestance.cli import main

    code = main(["reprocess", "--since", "2019-11-01", "--until", "2019-12-01", "--host", "127.0.0.1"])
    assert code == 0
    # The bar's last line (every archived page of the source and host read), then where the results went.
    out = capsys.readouterr().out
    assert re.search(r"^reprocess ━+ (\d+)/\1 archived pages, 100%, time left 0:00:00$", out, re.M), out
    assert re.search(rf"│ read from +│ {re.escape(settings.raw_url)} +│", out), out
    assert re.search(rf"│ stored in the lake at +│ {re.escape(settings.lake_url)} +│", out), out
    articles = Lake(settings.lake_url).read("articles").to_pylist()
    paragraphs = Lake(settings.lake_url).read("paragraphs").to_pylist()
    relabelled = {p["article_id"] for p in paragraphs if p["model_version"] == "champion-2"}
    in_window = {a["article_id"] for a in articles if str(a["published_date"]).startswith("2019-11")}
    assert relabelled == in_window == {"1656284", "1656530"}
    assert {p["parser_version"] for p in paragraphs if p["article_id"] in relabelled} == {"anadolu/legacy-v1"}

    # Nothing changed since: a run parses nothing again; with --reparse it parses every page, writes nothing.
    window = ["reprocess", "--since", "2019-11-01", "--until", "2019-12-01", "--host", "127.0.0.1"]
    for extra, not_reparsed in (([], "not_reparsed=2 "), (["--reparse"], "not_reparsed=0 ")):
        assert main([*window, *extra]) == 0
        out = capsys.readouterr().out
        assert not_reparsed in out and "unchanged=2 " in out and "labelled=0 " in out, out


@pytest.mark.usefixtures("prefect_harness")
def test_reprocess_flow_records_its_batches_and_summary_in_prefect(
    settings: Settings, model: FakeModel, monkeypatch: pytest.MonkeyPatch
):
    """The flow is async (its body blocks): its batch task runs and its summary artifact reach the API."""
    import asyncio
    import json

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, FlowRunFilterId

    import wirestance.flows.reprocess

    ingest_with_archive(settings, model)
    monkeypatch.setattr(wirestance.flows.reprocess, "champion_ref", lambda settings: FakeModel("champion-2"))
    state = asyncio.run(
        wirestance.flows.reprocess.reprocess(
            start=ALL_TIME.start, end=ALL_TIME.end, hosts=["127.0.0.1"], settings=settings, return_state=True
        )
    )
    assert state.is_completed(), state
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    assert tasks and {t.name.rsplit("-", 1)[0] for t in tasks} == {"reprocess-batch"}
    assert all(t.state is not None and t.state.is_completed() for t in tasks), [t.state for t in tasks]
    [summary] = [a for a in artifacts if a.key == "reprocess-summary"]
    table = json.loads(summary.data) if isinstance(summary.data, str) else summary.data
    [row] = [r for r in table if r["source"] == "anadolu"]
    articles = Lake(settings.lake_url).read("articles").to_pylist()
    assert row["articles"] == len(articles) > 20
    assert row["labelled"] == len(articles)  # another model version than the ingest's: every article labelled
