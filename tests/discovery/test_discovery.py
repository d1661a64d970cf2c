"""Discovery for past dates against the loopback archive server: sitemaps, CDX, Common Crawl, fetch modes."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from archive_server import CC_CRAWL, ORIGIN, ArchiveServer

from wirestance.discovery.backfill import backfill_window
from wirestance.discovery.captures import PageFetcher
from wirestance.discovery.config import DiscoveryConfig
from wirestance.discovery.indexes import commoncrawl_captures, commoncrawl_crawls, parse_cdx_json, wayback_captures
from wirestance.discovery.past import archive_fetcher, discover_past
from wirestance.discovery.sitemaps import scan_sitemaps, sitemaps_in_robots
from wirestance.discovery.types import Candidate, IndexAnswerError
from wirestance.fetch import PoliteFetcher, decode_body
from wirestance.lake import Lake
from wirestance.pipeline import Window
from wirestance.resources import Resources
from wirestance.settings import Settings
from wirestance.sources import get_source
from wirestance.urls import parse_wayback, url_key

NOV_2019 = (datetime(2019, 11, 1, tzinfo=UTC), datetime(2019, 12, 1, tzinfo=UTC))
SEED = "/en/politics/russia-eyes-further-military-cooperation-with-turkey/1656284"


def site_fetcher(settings: Settings) -> PoliteFetcher:
    return PoliteFetcher(settings, ["aa.com.tr", "127.0.0.1"])


@pytest.mark.parametrize(
    "url",
    [
        "https://www.aa.com.tr/en/politics/s-400/1656284",
        "http://aa.com.tr/en/politics/s-400/1656284/",
        "https://m.aa.com.tr/en/politics/s-400/1656284?utm_source=twitter&fbclid=x",
        "https://www.aa.com.tr/en/amp/politics/s-400/1656284",
        "https://www.aa.com.tr/en/politics/s-400/1656284/amp#comments",
        "http://www.aa.com.tr:80/en/politics/s-400/1656284?amp=1",
        "HTTPS://WWW.AA.COM.TR/en/politics/s%2D400/1656284",
        "https://web.archive.org/web/20191128120000id_/http://www.aa.com.tr/en/politics/s-400/1656284",
    ],
)
def test_every_spelling_of_an_article_is_one_url_key(url: str):
    assert url_key(url) == "https://aa.com.tr/en/politics/s-400/1656284"


def test_url_key_keeps_what_distinguishes_pages():
    assert url_key("https://www.aa.com.tr/en/rss/default?cat=world", keep_params=["cat"]).endswith("?cat=world")
    assert url_key("http://127.0.0.1:8080/en/x/1") == "https://127.0.0.1:8080/en/x/1"
    assert url_key("https://v.aa.com.tr/1656284") == "https://v.aa.com.tr/1656284"


def test_wayback_address_is_taken_apart():
    found = parse_wayback("http://127.0.0.1:9/web/20191128120000id_/https://www.aa.com.tr/en/x/1?a=b")
    assert found is not None and found.raw
    assert found.original == "https://www.aa.com.tr/en/x/1?a=b"
    assert found.capture_time == datetime(2019, 11, 28, 12, tzinfo=UTC)
    assert parse_wayback("https://www.aa.com.tr/en/x/1") is None


def test_sitemaps_from_robots_with_index_gzip_news_and_lastmod(archive_server: ArchiveServer, settings: Settings):
    assert sitemaps_in_robots("Sitemap: a\n# Sitemap: b\nsitemap:a\nUser-agent: *") == ["a"]
    with site_fetcher(settings) as site:
        scan = scan_sitemaps(site, archive_server.base_url, *NOV_2019)
    ids = sorted(url.rsplit("/", 1)[1] for url in (e.url for e in scan.entries))
    # The two November 2019 stories (gzipped monthly sitemap) and those of later months whose lastmod does
    # not rule them out; news sitemap entries are dated 2026, outside the window.
    assert {"1656284", "1656530"} <= set(ids)
    assert not any(e.url.endswith(("/915430", "/1016782")) for e in scan.entries)  # lastmod before the window
    assert archive_server.hits("/sitemap-2017-09.xml") == 0  # its lastmod rules the whole sitemap out
    assert archive_server.hits("/sitemap-2019-11.xml.gz") == 1
    assert scan.skipped_by_lastmod > 0
    assert not scan.problems


def test_news_sitemap_publication_dates_select(archive_server: ArchiveServer, settings: Settings):
    window = (datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 3, tzinfo=UTC))
    with site_fetcher(settings) as site:
        scan = scan_sitemaps(site, archive_server.base_url, *window)
    dated = {e.url.rsplit("/", 1)[1]: e.published for e in scan.entries if e.published}
    assert set(dated) == {"3893117", "3893480"}


def test_cdx_captures_follow_resume_keys_and_obey_retry_after(
    archive_server: ArchiveServer, settings: Settings, config: DiscoveryConfig
):
    archive_server.inject("/cdx/", "429")
    with archive_fetcher(settings, config) as archives:
        started = time.monotonic()
        captures = wayback_captures(
            archives, config, "aa.com.tr/en/*", date(2019, 11, 1), date(2019, 12, 31), ["aa.com.tr"]
        )
        elapsed = time.monotonic() - started
    assert elapsed >= 0.95  # Retry-After: 1
    ids = {get_source("anadolu").article_id(c.original_url) for c in captures}
    assert ids == {"1656284", "1656530", "1674309"}
    assert len(captures) == 9  # three spellings each, over three pages of four rows
    assert archive_server.hits("/cdx/search/cdx") == 4  # the 429, then three pages


@pytest.mark.parametrize("mode,why", [("not-json", "not JSON"), ("foreign", "outside the source's domains")])
def test_bad_cdx_answers_are_refused(
    archive_server: ArchiveServer, settings: Settings, config: DiscoveryConfig, mode: str, why: str
):
    archive_server.cdx_mode = mode
    with archive_fetcher(settings, config) as archives, pytest.raises(IndexAnswerError, match=why):
        wayback_captures(archives, config, "aa.com.tr/en/*", date(2019, 11, 1), date(2019, 12, 31), ["aa.com.tr"])


def test_refused_cdx_answer_is_reported_by_discovery(
    archive_server: ArchiveServer, settings: Settings, config: DiscoveryConfig
):
    archive_server.cdx_mode = "foreign"
    config = replace(config, methods=("wayback",))
    with site_fetcher(settings) as site, archive_fetcher(settings, config) as archives:
        found = discover_past(get_source("anadolu"), *NOV_2019, config, site=site, archives=archives)
    assert found.candidates == []
    assert len(found.failures) == 1
    assert "evil.example.net" in found.failures[0].reason
    assert found.failures[0].stage == "discover"


def test_cdx_json_shapes():
    header = ["urlkey", "timestamp", "original", "statuscode"]
    body = b'[["urlkey","timestamp","original","statuscode"],["k","20191128120000","https://aa.com.tr/en/a/1","200"]]'
    captures, key = parse_cdx_json(body, "u", ["aa.com.tr"])
    assert key is None and captures[0].timestamp == "20191128120000"
    assert parse_cdx_json(b"[]", "u", ["aa.com.tr"]) == ([], None)
    with pytest.raises(IndexAnswerError, match="does not match the header"):
        parse_cdx_json(f'[{header!r}, ["k"]]'.replace("'", '"').encode(), "u", ["aa.com.tr"])
    with pytest.raises(IndexAnswerError, match="no 'original'"):
        parse_cdx_json(b'[["urlkey"],["k"]]', "u", ["aa.com.tr"])


def test_common_crawl_index_pages_and_crawl_choice(
    archive_server: ArchiveServer, settings: Settings, config: DiscoveryConfig
):
    with archive_fetcher(settings, config) as archives:
        crawls = commoncrawl_crawls(archives, config, date(2019, 11, 1), date(2019, 12, 31))
        assert crawls == [CC_CRAWL, "CC-MAIN-2019-47"]
        captures = commoncrawl_captures(
            archives, config, CC_CRAWL, "aa.com.tr/en/*", date(2019, 11, 1), date(2019, 12, 31), ["aa.com.tr"]
        )
        none = commoncrawl_captures(
            archives, config, "CC-MAIN-2019-47", "aa.com.tr/en/*", date(2019, 11, 1), date(2019, 12, 31), ["aa.com.tr"]
        )
    assert none == []
    assert sorted(c.original_url.rsplit("/", 1)[1] for c in captures) == ["1656530", "1674309"]
    assert all(c.filename and c.length for c in captures)


def fetch_all(
    settings: Settings, config: DiscoveryConfig, candidates: list[Candidate], live_base: str | None = None
) -> list[Any]:
    with site_fetcher(settings) as site, archive_fetcher(settings, config) as archives:
        pages = PageFetcher(site, archives, config, live_base_url=live_base)
        return [pages.fetch(c) for c in candidates]


def test_discovery_merges_every_method_into_one_candidate_per_article(
    archive_server: ArchiveServer, settings: Settings, config: DiscoveryConfig
):
    source = get_source("anadolu")
    with site_fetcher(settings) as site, archive_fetcher(settings, config) as archives:
        found = discover_past(
            source, *NOV_2019, config, site=site, archives=archives, site_origin=archive_server.base_url
        )
    assert not found.failures
    assert set(found.found) == {"sitemaps", "wayback", "commoncrawl"}
    by_id = {source.article_id(c.url): c for c in found.candidates}
    assert len(by_id) == len(found.candidates)  # one candidate per article, whatever the spellings
    seed = by_id["1656284"]
    assert seed.found_by == {"sitemaps", "wayback"}
    assert len(seed.captures) == 3  # three Wayback spellings of it, still one article
    assert seed.url.startswith(ORIGIN)  # the site's own address, for a live fetch
    assert by_id["1656530"].found_by == {"sitemaps", "wayback", "commoncrawl"}
    # Earliest capture first (same second here: then by archive name).
    assert [c.archive for c in by_id["1656530"].captures] == ["commoncrawl"] + ["wayback"] * 3


def test_backfill_of_a_past_month_finds_fetches_parses_and_stores_each_article_once(
    archive_server: ArchiveServer, settings: Settings, config: DiscoveryConfig, model
):
    """A chunk over November 2019, pages from the archives only: each story stored once, old layout."""
    # Index look-ups only: a sitemap URL has no capture to fetch in archive mode (it would be a failure).
    archive_only = replace(config, fetch_mode="archive", methods=("wayback", "commoncrawl"))
    resources = Resources(settings)
    base = archive_server.base_url
    chunk = {"site_origin": base, "live_base_url": base}
    live_before = archive_server.hits("/en/")
    first = backfill_window(resources, "anadolu", Window(*NOV_2019), model, archive_only, **chunk)
    assert archive_server.hits("/en/") == live_before  # archive mode never touches the live site
    assert first.failures == []
    assert first.counts.new == 2 and first.from_archive == first.fetched == first.discovered
    assert first.out_of_window == first.fetched - 2 == 1  # 1674309, captured in the lag after the window
    stored = Lake(settings.lake_url).read("articles").to_pylist()
    assert sorted(r["article_id"] for r in stored) == ["1656284", "1656530"]
    assert {r["parser_version"] for r in stored} == {"anadolu/legacy-v1"}
    assert {r["article_id"]: r["capture_origin"] for r in stored} == {"1656284": "wayback", "1656530": "commoncrawl"}
    assert all(r["capture_time"] is not None for r in stored)

    again = backfill_window(resources, "anadolu", Window(*NOV_2019), model, archive_only, **chunk)
    resources.close()
    assert again.skipped_stored == 2 and again.counts.new == 0 and again.counts.updated == 0
    assert len(Lake(settings.lake_url).read("articles")) == 2


def test_live_then_archive_falls_back_to_the_capture(
    archive_server: ArchiveServer, settings: Settings, config: DiscoveryConfig
):
    archive_server.live_missing.add("1656284")
    candidate = Candidate(url_key(ORIGIN + SEED), ORIGIN + SEED)
    with archive_fetcher(settings, config) as archives:
        found = wayback_captures(
            archives, config, "aa.com.tr/en/*", date(2019, 11, 27), date(2019, 11, 29), ["aa.com.tr"]
        )
    candidate.captures = [c for c in found if c.original_url.endswith("1656284")][:1]
    # The capture's timestamp is off by a second: the archive redirects to the nearest capture.
    stale = candidate.captures[0]
    candidate.captures = [type(stale)(stale.archive, stale.original_url, "20191127115959")]

    live = replace(config, fetch_mode="live")
    with pytest.raises(Exception, match="live: HTTP 404"):
        fetch_all(settings, live, [candidate], live_base=archive_server.base_url)
    [page] = fetch_all(settings, config, [candidate], live_base=archive_server.base_url)
    assert page.capture_origin == "wayback"
    assert page.capture_time == datetime(2019, 11, 27, 12, tzinfo=UTC)
    assert page.url == ORIGIN + SEED

    archive_server.live_missing.clear()
    [page] = fetch_all(settings, config, [candidate], live_base=archive_server.base_url)
    assert page.capture_origin is None and page.url == archive_server.base_url + SEED


def test_common_crawl_capture_is_fetched_by_range(
    archive_server: ArchiveServer, settings: Settings, config: DiscoveryConfig
):
    with archive_fetcher(settings, config) as archives:
        captures = commoncrawl_captures(
            archives, config, CC_CRAWL, "aa.com.tr/en/*", date(2019, 11, 1), date(2019, 12, 31), ["aa.com.tr"]
        )
    archive_only = replace(config, fetch_mode="archive")
    candidates = [Candidate(url_key(c.original_url), c.original_url, captures=[c]) for c in captures]
    pages = fetch_all(settings, archive_only, candidates)
    source = get_source("anadolu")
    for page in pages:
        assert page.capture_origin == "commoncrawl" and page.result.status == 200
        article = source.parse(decode_body(page.result.body, None), url=page.url)
        assert article.parser_version == "anadolu/legacy-v1"
    assert archive_server.hits("/crawl-data/") == 2


def test_config_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WIRESTANCE_DISCOVERY_WAYBACK_BASE", "http://127.0.0.1:1")
    monkeypatch.setenv("WIRESTANCE_DISCOVERY_METHODS", "wayback, commoncrawl")
    monkeypatch.setenv("WIRESTANCE_DISCOVERY_ARCHIVE_OBEY_ROBOTS", "false")
    monkeypatch.setenv("WIRESTANCE_DISCOVERY_CAPTURE_LAG_DAYS", "7")
    config = DiscoveryConfig.from_env()
    assert config.wayback_base == "http://127.0.0.1:1" and config.methods == ("wayback", "commoncrawl")
    assert config.archive_obey_robots is False and config.capture_lag_days == 7
    monkeypatch.setenv("WIRESTANCE_DISCOVERY_FETCH_MODE", "sometimes")
    with pytest.raises(ValueError, match="fetch_mode"):
        DiscoveryConfig.from_env()
