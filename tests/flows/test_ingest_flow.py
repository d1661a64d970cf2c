"""The `ingest` flow end to end: loopback sample site -> parse -> label -> parquet, under a real Prefect API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from wirestance.flows.ingest import ingest
from wirestance.lake import Lake
from wirestance.replay import ReplayServer

pytestmark = pytest.mark.usefixtures("prefect_harness")
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "anadolu_en"
ALL_TIME = {"start": datetime(2000, 1, 1, tzinfo=UTC), "end": datetime(2030, 1, 1, tzinfo=UTC)}


def expected_articles() -> int:
    return len(json.loads((SAMPLE / "articles.json").read_text()))


def test_ingest_sample_then_rerun_is_unchanged(lake_env: Path, sample_server: ReplayServer):
    first = ingest(**ALL_TIME, feed_base_url=sample_server.base_url)
    assert first[0]["new"] == expected_articles()
    assert first[0]["failed"] == 0
    lake = Lake(str(lake_env))
    articles = lake.read("articles").to_pandas()
    paragraphs = lake.read("paragraphs").to_pandas()
    assert len(articles) == expected_articles()
    assert not articles.duplicated(["source", "article_id"]).any()
    assert not paragraphs.duplicated(["source", "article_id", "para_index"]).any()
    assert set(paragraphs["label"]) <= {"russian_supplier", "turkish_government", "us_objection", "none"}
    assert paragraphs["model_version"].notna().all()
    prob = paragraphs[["p_russian_supplier", "p_turkish_government", "p_us_objection", "p_none"]].sum(axis=1)
    assert ((prob - 1).abs() < 1e-3).all()
    seed = articles[articles["article_id"] == "1656284"].iloc[0]
    assert str(seed["published_date"]) == "2019-11-26"
    assert seed["n_paragraphs"] == 13

    second = ingest(**ALL_TIME, feed_base_url=sample_server.base_url)
    assert (second[0]["new"], second[0]["updated"], second[0]["unchanged"]) == (0, 0, expected_articles())
    assert len(lake.read("articles")) == expected_articles()
    assert len(Lake(str(lake_env)).read("paragraphs")) == len(paragraphs)


def test_window_limits_what_is_fetched(lake_env: Path, sample_server: ReplayServer):
    istanbul = timezone(timedelta(hours=3))  # the feed's pubDates are midnight Istanbul time
    rows = ingest(
        start=datetime(2019, 11, 26, tzinfo=istanbul),
        end=datetime(2019, 11, 27, tzinfo=istanbul),
        feed_base_url=sample_server.base_url,
        categories=["politics"],
    )
    stored = Lake(str(lake_env)).read("articles").column("article_id").to_pylist()
    assert rows[0]["new"] == len(stored) >= 1
    assert "1656284" in stored


def test_bad_urls_are_counted_and_recorded_never_fatal(lake_env: Path, sample_with_bad_feed, tmp_path):
    with ReplayServer(sample_with_bad_feed) as server:
        seed_path = "/en/politics/russia-eyes-further-military-cooperation-with-turkey/1656284"
        server.inject(seed_path, "500", "timeout")  # transient: retried, then fetched
        rows = ingest(**ALL_TIME, feed_urls=[server.base_url + "/en/rss/default?cat=bad"])
    row = rows[0]
    assert row["new"] == 1
    assert row["failed"] == 3  # index page (parse), missing page (fetch: 404), off-site link (discover)
    failures = Lake(str(lake_env)).read("failures").to_pandas()
    assert sorted(failures["stage"]) == ["discover", "fetch", "parse"]
    assert failures["reason"].str.contains("/en/politics").any()
    assert failures["run_id"].nunique() == 1
