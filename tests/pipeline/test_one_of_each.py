"""One of each: a failure type, a parse step, a rule for replacing a stored copy, a label set."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from wirestance.classifiers.labels import LABELS
from wirestance.failures import Failure
from wirestance.fetch import FetchError
from wirestance.lake import Lake
from wirestance.lake.schema import PARAGRAPHS, PROBABILITY_COLUMNS
from wirestance.pages import Page, parse_page
from wirestance.pipeline import replaces
from wirestance.sources import get_source

SEED = Path(__file__).resolve().parents[2] / "data" / "samples" / "anadolu_en" / "pages" / "1656284.html"
SEED_URL = "https://www.aa.com.tr/en/politics/russia-eyes-further-military-cooperation-with-turkey/1656284"
FETCHED = datetime(2026, 7, 1, tzinfo=UTC)
SOURCE = get_source("anadolu")


def test_the_classifiers_and_the_lake_use_one_label_set():
    assert tuple(f"p_{label}" for label in LABELS) == PROBABILITY_COLUMNS
    assert [name for name in PARAGRAPHS.names if name.startswith("p_")] == list(PROBABILITY_COLUMNS)


def test_a_page_parses_and_an_archived_capture_keeps_its_time_and_origin():
    captured = datetime(2019, 11, 27, 12, tzinfo=UTC)
    page = Page(SEED_URL, SEED.read_bytes(), "utf-8", FETCHED, captured, "wayback")
    result = parse_page(SOURCE, SEED_URL, lambda: page)
    assert isinstance(result, tuple)
    article, came_from = result
    assert article.article_id == "1656284" and came_from is page
    assert (article.capture_time, article.capture_origin) == (captured, "wayback")


def test_every_way_a_page_fails_is_one_failure_record(tmp_path: Path):
    def unreachable() -> Page:
        raise FetchError(SEED_URL, "HTTP 404")

    not_an_article = Page(SEED_URL, b"<html><body>index</body></html>", None, FETCHED)
    fetch_failed = parse_page(SOURCE, SEED_URL, unreachable)
    parse_failed = parse_page(SOURCE, SEED_URL, lambda: not_an_article)
    crashed = parse_page(CrashingParser(), SEED_URL, lambda: not_an_article)  # type: ignore[arg-type]
    assert isinstance(fetch_failed, Failure) and (fetch_failed.stage, fetch_failed.reason) == (
        "fetch",
        f"{SEED_URL}: HTTP 404",
    )
    assert isinstance(parse_failed, Failure) and parse_failed.stage == "parse"
    assert isinstance(crashed, Failure) and crashed.stage == "parse" and "KeyError" in crashed.reason
    lake = Lake(str(tmp_path))
    assert lake.append_failures([fetch_failed, parse_failed, crashed], "run-1") == 3
    stored = lake.read("failures").to_pylist()
    assert sorted(row["stage"] for row in stored) == ["fetch", "parse", "parse"]
    assert {row["run_id"] for row in stored} == {"run-1"}


class CrashingParser:
    """A source whose parser has a bug."""

    name = "anadolu"

    def parse(self, html: str, url: str) -> None:
        raise KeyError("layout")


def test_a_later_copy_replaces_the_stored_one_only_if_changed_and_not_older():
    result = parse_page(SOURCE, SEED_URL, lambda: Page(SEED_URL, SEED.read_bytes(), "utf-8", FETCHED))
    assert isinstance(result, tuple)
    stored = replace(result[0], updated=datetime(2019, 11, 26, 12, tzinfo=UTC))
    assert not replaces(stored, replace(stored, url=SEED_URL + "?amp=1"))  # same content
    changed = replace(stored, title=stored.title + " (updated)")
    assert replaces(stored, replace(changed, updated=datetime(2019, 11, 26, 13, tzinfo=UTC)))
    assert not replaces(stored, replace(changed, updated=datetime(2019, 11, 26, 11, tzinfo=UTC)))  # stale
    assert replaces(stored, replace(changed, updated=None))
