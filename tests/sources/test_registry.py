"""The sources registry: the shipped sources.toml, a user's file on top, and files refused with line and reason."""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from wirestance.sources import get_source, registry
from wirestance.sources.registry import SHIPPED_FILE, SOURCES_FILE_ENV, SourcesFileError, load_registry

REPO = Path(__file__).resolve().parents[2]
SHIPPED = tomllib.loads(SHIPPED_FILE.read_text(encoding="utf-8"))["sources"]
DEDICATED = ("anadolu", "ap", "reuters", "aljazeera", "sputnik", "rt")
CONFIGURED = ("tass", "ria", "dailysabah", "trtworld", "xinhua", "afp")


def _importable(module: str) -> bool:
    return importlib.util.find_spec(f"wirestance.sources.{module}") is not None


def test_shipped_file_declares_every_side_with_its_zone():
    assert [name for name in SHIPPED if name in DEDICATED] == list(DEDICATED)
    assert all(SHIPPED[name].get("enabled", True) and SHIPPED[name]["parser"] == name for name in DEDICATED)
    assert all(SHIPPED[name]["enabled"] is False and SHIPPED[name]["parser"] == "generic" for name in CONFIGURED)
    zones = {name: SHIPPED[name]["timezone"] for name in SHIPPED}
    assert zones["anadolu"] == "Europe/Istanbul" and zones["tass"] == "Europe/Moscow"
    assert zones["ap"] == "America/New_York" and zones["xinhua"] == "Asia/Shanghai"
    # Every configured entry says where its articles are listed: a feed or a sitemap.
    for name in CONFIGURED:
        assert SHIPPED[name].get("feeds") or SHIPPED[name].get("sitemaps"), name


def test_shipped_registry_builds_and_leaves_out_only_missing_parser_modules(caplog, monkeypatch):
    monkeypatch.delenv(SOURCES_FILE_ENV, raising=False)
    with caplog.at_level(logging.WARNING, "wirestance.sources.registry"):
        built = load_registry(None)
    for name, table in SHIPPED.items():
        if _importable(table["parser"]):
            assert name in built.sources
        else:
            assert built.skipped[name] == f"its parser module wirestance.sources.{table['parser']} is not installed"
            assert name not in built.sources
            if table.get("enabled", True):
                assert f"source {name} left out" in caplog.text
    assert built.enabled_names()[0] == "anadolu"
    assert all(s.enabled for s in built.enabled)
    with pytest.raises(ValueError, match="unknown source 'nope'; known sources: anadolu"):
        built.get("nope")


def test_anadolu_entry_feeds_ids_and_index_patterns():
    source = get_source("anadolu")
    assert source.allowed_domains == ("aa.com.tr",)
    assert source.feed_urls([]) == [
        f"https://www.aa.com.tr/en/rss/default?cat={c}" for c in ("politics", "world", "turkiye")
    ]
    assert source.feed_urls(["economy"], "http://127.0.0.1:8765/") == [
        "http://127.0.0.1:8765/en/rss/default?cat=economy"
    ]
    assert source.article_id("https://www.aa.com.tr/en/politics/s-400/1656284") == "1656284"
    assert source.article_id("http://127.0.0.1:8765/en/politics/s-400/1656284") == "1656284"
    assert source.article_id("https://www.aa.com.tr/en/politics") is None
    assert source.index_patterns == ("aa.com.tr/en/*",)
    assert source.zone.key == "Europe/Istanbul"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


GENERIC_SITE = """
[sources.example_wire]
parser = "generic"
domains = ["example-wire.org"]
timezone = "Europe/Berlin"
language = "de"
article_url = '^https://example-wire\\.org/news/(?P<id>\\d+)'
news_sitemaps = ["https://example-wire.org/news.xml"]
politeness = { per_host_delay = 3.0 }

[[sources.example_wire.feeds]]
url = "https://example-wire.org/atom.xml"
format = "atom"
category = "all"
"""


def test_user_file_switches_on_a_shipped_source_and_adds_one(tmp_path: Path):
    path = write(tmp_path, "[sources.tass]\nenabled = true\n" + GENERIC_SITE)
    built = load_registry(path)
    expected = {"tass", "example_wire"} if _importable("generic") else set()
    assert expected <= set(built.sources)
    if not _importable("generic"):
        assert "generic is not installed" in built.skipped["tass"]
        return
    tass = built.get("tass")
    assert tass.enabled and tass.feed_urls([]) == ["https://tass.com/rss/v2.xml"]  # the rest of the entry stays
    wire = built.get("example_wire")
    assert wire.article_id("https://example-wire.org/news/42-s400") == "42"
    assert wire.article_id("https://example-wire.org/about") is None
    assert wire.feeds[0].format == "atom" and wire.news_sitemap_urls() == ["https://example-wire.org/news.xml"]
    assert wire.politeness.per_host_delay == 3.0
    assert built.pick("https://example-wire.org/news/42").name == "example_wire"


def test_the_setting_names_the_user_file(tmp_path: Path, monkeypatch):
    path = write(tmp_path, '[sources.anadolu]\ntimezone = "UTC"\n')
    monkeypatch.setenv(SOURCES_FILE_ENV, str(path))
    assert get_source("anadolu").timezone == "UTC"
    monkeypatch.delenv(SOURCES_FILE_ENV)
    assert registry().get("anadolu").timezone == "Europe/Istanbul"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('[sources.x]\nparser = "generic"\ndomains = ["x.org"\n', 3, "not valid TOML"),
        ('[sources.anadolu]\nenabled = true\ncolour = "red"\n', 3, "unknown key 'colour'"),
        ('[sources.anadolu]\n\ntimezone = "Mars/Olympus"\n', 3, "unknown time zone 'Mars/Olympus'"),
        ('[sources.anadolu]\nenabled = "yes"\n', 2, "enabled must be a bool, not str"),
        (
            "[sources.x]\nparser = 'generic'\ndomains = ['x.org']\ntimezone = 'UTC'\nlanguage = 'en'\n",
            1,
            "needs article_url",
        ),
        ("[sources.x]\nparser = 'generic'\ntimezone = 'UTC'\n", 1, "missing required key 'domains'"),
        (
            "[sources.x]\nparser = 'generic'\ndomains = ['x.org']\ntimezone = 'UTC'\nlanguage = 'en'\n"
            "article_url = '.'\n\n[[sources.x.feeds]]\nurl = 'https://evil.example.net/rss'\n",
            8,
            "'https://evil.example.net/rss' is outside the source's domains ['x.org']",
        ),
        (
            "[sources.x]\nparser = 'generic'\ndomains = ['x.org']\ntimezone = 'UTC'\nlanguage = 'en'\n"
            "article_url = '(unclosed'\n",
            6,
            "article_url is not a regular expression",
        ),
        ("[sources.anadolu]\narchive_patterns = ['example.org/*']\n", 2, "archive pattern 'example.org/*'"),
        ("[sources.anadolu]\ndefault_categories = ['x']\nfeed_template = 'https://aa.com.tr/rss'\n", 3, "{category}"),
        ("[sources.anadolu]\npoliteness = { per_host_delay = -1 }\n", 2, "positive number"),
        ("[sources.Bad-Name]\nenabled = true\n", 1, "lower-case letters"),
    ],
)
def test_malformed_or_contradictory_files_are_refused_with_line_and_reason(tmp_path, text, line, reason):
    path = write(tmp_path, text)
    with pytest.raises(SourcesFileError) as info:
        load_registry(path)
    assert info.value.line == line, str(info.value)
    assert reason in info.value.reason
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_two_enabled_sources_on_one_domain_are_refused(tmp_path: Path):
    text = "\n[sources.mirror]\nparser = 'anadolu'\ndomains = ['aa.com.tr']\ntimezone = 'UTC'\nlanguage = 'en'\n"
    taken = r":4: source 'mirror': domain 'aa.com.tr' is already taken by 'anadolu'"
    with pytest.raises(SourcesFileError, match=taken):
        load_registry(write(tmp_path, text))
    # Switched off, the same entry is allowed: only enabled sources pick pages by domain.
    assert "mirror" in load_registry(write(tmp_path, text + "enabled = false\n")).sources


def test_a_missing_dedicated_module_is_left_out_with_a_warning(tmp_path: Path, caplog):
    text = (
        "[sources.newswire]\nparser = 'newswire'\ndomains = ['newswire.example']\ntimezone = 'UTC'\nlanguage = 'en'\n"
    )
    with caplog.at_level(logging.WARNING, "wirestance.sources.registry"):
        built = load_registry(write(tmp_path, text))
    assert "source newswire left out: its parser module wirestance.sources.newswire is not installed" in caplog.text
    with pytest.raises(ValueError, match="source 'newswire' is not available: its parser module"):
        built.get("newswire")


def test_cli_refuses_a_bad_sources_file_at_start(tmp_path: Path):
    path = write(tmp_path, '[sources.anadolu]\ntimezone = "Nowhere/Land"\n')
    done = subprocess.run(
        [sys.executable, "-m", "wirestance.cli", "parse", str(REPO / "data/samples/anadolu_en/pages/1656284.html")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        env={**_env(), SOURCES_FILE_ENV: str(path)},
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"wirestance parse: {path}:2: source 'anadolu': unknown time zone 'Nowhere/Land'; use an IANA name"
    )


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != SOURCES_FILE_ENV}


SEED = REPO / "data/samples/anadolu_en/pages/1656284.html"
SEED_URL = "https://www.aa.com.tr/en/politics/russia-eyes-further-military-cooperation-with-turkey/1656284"


def test_unknown_layout_is_not_an_article_unless_the_generic_fallback_is_on(tmp_path: Path):
    from wirestance.articles import NotAnArticle

    # The same story in markup no Anadolu layout knows (the body container renamed).
    unknown = SEED.read_text(encoding="utf-8").replace("detay-icerik", "story-text-v9")
    with pytest.raises(NotAnArticle) as info:
        get_source("anadolu").parse(unknown, SEED_URL)
    assert "layout" in info.value.reason
    if not _importable("generic"):
        pytest.skip("the generic parser lands with the parsers branch")
    built = load_registry(write(tmp_path, "[sources.anadolu]\ngeneric_fallback = true\n"))
    article = built.get("anadolu").parse(unknown, SEED_URL)
    assert article.parser_version.startswith("generic/")
    assert article.source == "anadolu"
    assert any("S-400" in paragraph for paragraph in article.paragraphs)
