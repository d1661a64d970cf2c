"""Deadlines per batch and per run, one page per article identity across batches, date-only stories at a
year boundary in ingest and reprocess, and failures that outlive a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fault_run import REPO, batch_with_failures, failure_for, lake_failures, run_pipeline, stored_ids
from hostile import HostileServer, article_html, article_path, rss

from wirestance.flows.reprocess import run_reprocess
from wirestance.lake import Lake
from wirestance.pipeline import Window
from wirestance.resources import Resources
from wirestance.settings import Settings

ALL_TIME = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
PUB = "Sat, 05 Apr 2025 10:00:00 +0300"


def with_(settings: Settings, **changes: object) -> Settings:
    return Settings(**{**settings.__dict__, **changes})


def test_batch_deadline_cuts_slow_pages_and_fails_the_rest(hostile: HostileServer, settings: Settings, champion):
    slow = [hostile.trickle(article_path(str(n)), article_html(str(n)), 0.5) for n in (1, 2)]
    rest = [hostile.page(article_path(str(n)), article_html(str(n))) for n in (3, 4, 5)]
    limited = with_(settings, batch_deadline=2.0, request_deadline=30.0)
    runtime = Resources(limited, model=champion)
    started = time.monotonic()
    outcome = batch_with_failures(runtime, slow + rest, champion, hostile.base_url, run_id="deadline-run")
    elapsed = time.monotonic() - started
    runtime.close()
    assert elapsed < 4.0, elapsed  # the two slowloris pages held both workers until the 2 s batch deadline
    reasons = {f.url: f.reason for f in outcome.failures}
    assert all("deadline" in reasons[url] for url in slow)
    assert all("batch deadline passed before it was fetched" in reasons[url] for url in rest)
    assert len(lake_failures(limited)) == 5 and stored_ids(limited) == []


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_run_deadline_turns_later_batches_into_failures(
    hostile: HostileServer, settings: Settings, champion, monkeypatch: pytest.MonkeyPatch
):
    """The real ingest flow: batch 1 is stored, batch 2 trickles until the run deadline, batches 3-4 fail."""
    from wirestance.flows.ingest import ingest

    good = ["11", "12"]
    late = ["31", "32", "41", "42"]
    for article_id in good + late:
        hostile.page(article_path(article_id), article_html(article_id))
    slow = ["21", "22"]
    for article_id in slow:
        hostile.trickle(article_path(article_id), article_html(article_id), 0.5)
    order = good + slow + late
    feed = hostile.page("/en/rss/default?cat=all", rss(hostile.base_url, [(article_path(i), PUB) for i in order]))
    for name, value in {
        "LAKE_URL": settings.lake_url,
        "RAW_URL": settings.raw_url,
        "MODELS_DIR": settings.models_dir,
        "PER_HOST_DELAY": "0",
        "BATCH_SIZE": "2",
        "RUN_DEADLINE": "8",
        "REQUEST_DEADLINE": "60",
    }.items():
        monkeypatch.setenv(f"WIRESTANCE_{name}", value)
    started = time.monotonic()
    rows = ingest(start=ALL_TIME.start, end=ALL_TIME.end, feed_urls=[feed])
    elapsed = time.monotonic() - started
    assert elapsed < 20, elapsed  # 8 s run deadline plus flow start and the last batch's bookkeeping
    assert rows[0]["new"] == 2 and rows[0]["failed"] == 6
    assert stored_ids(settings) == good
    failures = lake_failures(settings)
    assert len(failures) == 6
    for article_id in slow:
        assert "deadline" in failure_for(failures, article_path(article_id))["reason"]
    for article_id in late:
        assert "run deadline passed" in failure_for(failures, article_path(article_id))["reason"]


def test_two_pages_of_one_article_never_merge_across_batches(hostile: HostileServer, settings: Settings, champion):
    # Batch 1 meets a page claiming article 7 from another URL; batch 2 the page at article 7's own URL.
    impostor = article_html("7", paragraphs=["An impostor paragraph."] * 5, title="Impostor")
    hostile.page(article_path("8", slug="elsewhere"), impostor)
    hostile.page(article_path("7"), article_html("7"))
    items = [(article_path("8", slug="elsewhere"), PUB), (article_path("7"), PUB)]
    feed = hostile.page("/en/rss/default?cat=all", rss(hostile.base_url, items))
    result = run_pipeline(with_(settings, batch_size=1), champion, feed, ALL_TIME)
    assert stored_ids(settings) == ["7"]
    paragraphs = Lake(settings.lake_url).read("paragraphs").to_pandas()
    assert sorted(paragraphs["para_index"]) == [0, 1, 2]
    assert not paragraphs["text"].str.contains("impostor").any()
    row = failure_for(lake_failures(settings), "elsewhere-8")
    assert row["stage"] == "identity" and f"duplicate of {hostile.base_url}{article_path('7')}" in row["reason"]
    assert result.seconds < 10


def test_date_only_story_of_1_january_falls_on_its_printed_day(hostile: HostileServer, settings: Settings, champion):
    """Printed 01.01.2020 without a time (00:00 Istanbul = 21:00 UTC on 31 December): a UTC window of
    1 January holds it in ingest and in reprocess; the window of 31 December does not."""
    hostile.page(article_path("42"), article_html("42", printed="01.01.2020"))
    feed = hostile.page(
        "/en/rss/default?cat=all", rss(hostile.base_url, [(article_path("42"), "Wed, 01 Jan 2020 00:00:00 +0300")])
    )
    new_year = Window(datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 2, tzinfo=UTC))
    new_years_eve = Window(datetime(2019, 12, 31, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC))
    run_pipeline(settings, champion, feed, new_years_eve)
    assert stored_ids(settings) == []
    run_pipeline(settings, champion, feed, new_year)
    articles = Lake(settings.lake_url).read("articles").to_pylist()
    assert [(a["article_id"], a["published_date"].isoformat()) for a in articles] == [("42", "2020-01-01")]

    eve = run_reprocess(settings, new_years_eve, ["anadolu"], champion, hosts=["127.0.0.1"])
    day = run_reprocess(settings, new_year, ["anadolu"], champion, hosts=["127.0.0.1"])
    assert (eve[0]["articles"], eve[0]["out_of_window"]) == (0, 1)
    assert (day[0]["articles"], day[0]["out_of_window"], day[0]["failed"]) == (1, 0, 0)


KILLED_RUN = """
import sys
sys.path[:0] = [sys.argv[1]]
from datetime import UTC, datetime
from fault_run import run_pipeline
from wirestance.classifiers.registry import load_champion
from wirestance.pipeline import Window
from wirestance.settings import Settings

settings = Settings(lake_url=sys.argv[2], raw_url=sys.argv[3], models_dir=sys.argv[4], per_host_delay=0.0,
                    batch_size=3, request_deadline=600.0, max_attempts=1)
run_pipeline(settings, load_champion(settings), sys.argv[5],
             Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)))
"""


@pytest.mark.slow
def test_a_killed_run_keeps_the_failures_of_its_finished_batches(hostile: HostileServer, settings: Settings, champion):
    missing = [article_path(str(n)) for n in range(100, 106)]  # two batches of 404s
    hanging = article_path("999")
    hostile.trickle(hanging, article_html("999"), 5.0)  # batch 3 hangs: the run is killed there
    feed = hostile.page("/en/rss/default?cat=all", rss(hostile.base_url, [(p, PUB) for p in [*missing, hanging]]))
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED_RUN,
            str(Path(__file__).parents[1] / "support"),
            settings.lake_url,
            settings.raw_url,
            settings.models_dir,
            feed,
        ],
        cwd=REPO,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while hostile.hits[hanging] == 0 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert hostile.hits[hanging] == 1, "the run never reached its third batch"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    failures = lake_failures(settings)
    assert sorted(f["url"].removeprefix(hostile.base_url) for f in failures) == sorted(missing)
    assert all(f["stage"] == "fetch" and "HTTP 404" in f["reason"] for f in failures)
