"""The multi-agency offline sample: AP and Reuters replays on their real templates, next to Anadolu's."""

from __future__ import annotations

import importlib.util
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wirestance.pipeline import Window, discover, fetch_and_parse
from wirestance.replay import ReplayServer, ReplaySite
from wirestance.resources import Resources
from wirestance.samples.wires import SITES, build_site
from wirestance.settings import Settings
from wirestance.sources.registry import load_registry

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
ALL_TIME = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def _needs_parsers() -> None:
    for module in ("ap", "reuters", "kit"):
        if importlib.util.find_spec(f"wirestance.sources.{module}") is None:
            pytest.skip(f"wirestance.sources.{module} lands with the parsers branch")


@pytest.mark.parametrize("folder", sorted(SITES))
def test_the_checked_in_sample_is_what_its_generator_writes(tmp_path: Path, folder: str):
    copy = tmp_path / folder
    copy.mkdir()
    shutil.copy(SAMPLES / folder / "articles.json", copy / "articles.json")
    build_site(copy)
    written = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    shipped = sorted(p.relative_to(SAMPLES / folder).as_posix() for p in (SAMPLES / folder).rglob("*") if p.is_file())
    assert written == shipped
    for name in written:
        assert (copy / name).read_bytes() == (SAMPLES / folder / name).read_bytes(), name


def _expected(folder: str) -> list[dict]:
    specs = json.loads((SAMPLES / folder / "articles.json").read_text(encoding="utf-8"))
    for spec in specs:
        paragraphs = spec["paragraphs"]
        # AP's closing "___" and the credit after it are furniture, not the story.
        spec["paragraphs"] = paragraphs[: paragraphs.index("___")] if "___" in paragraphs else paragraphs
    return specs


@pytest.mark.parametrize("folder", sorted(SITES))
def test_each_page_parses_paragraph_for_paragraph_in_the_agency_zone(folder: str):
    _needs_parsers()
    source_name, origin, _, _, url_of, _ = SITES[folder]
    source = load_registry(None).get(source_name)
    manifest = json.loads((SAMPLES / folder / "manifest.json").read_text())
    files = {origin + r["path"]: SAMPLES / folder / r["file"] for r in manifest["routes"]}
    for spec in _expected(folder):
        url = url_of(spec)
        article = source.parse(files[url].read_bytes(), url)
        assert article.source == source_name
        assert article.paragraphs == spec["paragraphs"]
        assert article.title == spec["title"]
        published = datetime.fromisoformat(spec["published"].replace("Z", "+00:00"))
        assert article.published == published
        assert article.published.utcoffset() == published.astimezone(source.zone).utcoffset()
        assert article.article_id == source.article_id(url)


def test_one_replay_of_three_agencies_is_discovered_and_parsed_per_source(tmp_path: Path, monkeypatch):
    _needs_parsers()
    monkeypatch.delenv("WIRESTANCE_SOURCES_FILE", raising=False)  # every shipped source
    settings = Settings(lake_url=str(tmp_path / "lake"), raw_url=str(tmp_path / "raw"), per_host_delay=0.0, timeout=5.0)
    sites = [ReplaySite(SAMPLES / name) for name in ("reuters_en", "ap_en", "anadolu_en")]
    runtime = Resources(settings, archive=False)
    counts: dict[str, int] = {}
    try:
        with ReplayServer(*sites) as server:
            for name in ("anadolu", "ap", "reuters"):
                found = discover(runtime, name, None, ALL_TIME, server.base_url)
                assert found.failures == [], found.failures
                parsed, failures = fetch_and_parse(
                    runtime, runtime_source(name), [i.url for i in found.items], server.base_url
                )
                assert failures == [], failures
                counts[name] = len(parsed)
                assert {article.source for article, _ in parsed} == {name}
    finally:
        runtime.close()
    anadolu_pages = len(json.loads((SAMPLES / "anadolu_en" / "articles.json").read_text()))
    assert counts == {"anadolu": anadolu_pages, "ap": 3, "reuters": 3}


def runtime_source(name: str):
    from wirestance.sources import get_source

    return get_source(name)
