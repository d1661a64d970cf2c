"""`wirestance parse`: the JSON contract, and one line naming the input on bad input."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "data" / "samples" / "anadolu_en" / "pages"
FIELDS = {
    "url",
    "canonical_url",
    "source",
    "article_id",
    "title",
    "lede",
    "authors",
    "published",
    "updated",
    "dateline",
    "category",
    "tags",
    "language",
    "paragraphs",
    "parser_version",
}


def wirestance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wirestance.cli", *args], capture_output=True, text=True, cwd=REPO, timeout=60
    )


def test_parse_seed_page_prints_the_article_as_json():
    done = wirestance("parse", str(PAGES / "1656284.html"))
    assert done.returncode == 0, done.stderr
    article = json.loads(done.stdout)
    assert set(article) >= FIELDS
    assert article["title"] == "Russia eyes further military cooperation with Turkey"
    assert article["authors"] == ["Elena Teslova"]
    assert article["published"].startswith("2019-11-26T")
    assert article["dateline"] == "MOSCOW"
    assert article["category"] == "Politics"
    assert len(article["paragraphs"]) == 13
    assert not any("Anadolu Agency website contains only a portion" in p for p in article["paragraphs"])
    assert article["article_id"] == "1656284"


def test_parse_real_gzipped_page(tmp_path: Path):
    done = wirestance("parse", str(REPO / "tests/fixtures/pages/fundus__AnadoluAjansi_2025_04_05.html.gz"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["published"].startswith("2025-04-05")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "index-politics.html"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "pdf"),
        (b"", "empty"),
        (b"<html><body><div class='x'><p>Just text</p></div></body></html>", "layout"),
    ],
)
def test_parse_non_article_exits_non_zero_with_one_line(tmp_path: Path, content: bytes | None, reason: str):
    if content is None:
        target = PAGES / "index-politics.html"
    else:
        target = tmp_path / "page.html"
        target.write_bytes(gzip.decompress(gzip.compress(content)))
    done = wirestance("parse", str(target))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(target.name) in lines[0] or str(target) in lines[0]
    assert done.stdout == ""


def test_parse_missing_file():
    done = wirestance("parse", "/nonexistent/page.html")
    assert done.returncode == 2
    assert "no such file" in done.stderr


def test_source_is_picked_from_the_url_domain_and_unknown_hosts_say_what_to_do():
    page = str(PAGES / "1656284.html")
    done = wirestance("parse", page, "--url", "https://www.aa.com.tr/en/politics/russia-eyes/1656284")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["source"] == "anadolu"
    done = wirestance("parse", page, "--url", "https://news.unknown.example/a/1")
    assert done.returncode == 2
    assert "no source is declared for news.unknown.example; name one with --source NAME, or --source generic" in (
        done.stderr
    )
    done = wirestance("parse", page, "--url", "https://news.unknown.example/a/1", "--source", "anadolu")
    assert done.returncode == 0, done.stderr  # forced: the page's own markup and canonical link decide the rest


def test_manifest_prints_one_line_per_input_in_order_from_one_process(tmp_path: Path):
    (tmp_path / "pages").mkdir()
    for name in ("1656284.html", "1016782.html", "index-politics.html"):
        (tmp_path / "pages" / name).write_bytes((PAGES / name).read_bytes())
    (tmp_path / "pages" / "1016782.html.gz").write_bytes(gzip.compress((PAGES / "1016782.html").read_bytes()))
    lines = [
        {"path": "pages/1656284.html", "url": "https://www.aa.com.tr/en/politics/russia-eyes/1656284"},
        {"path": "pages/index-politics.html", "url": "https://www.aa.com.tr/en/politics"},
        {"path": "pages/missing.html", "url": "https://www.aa.com.tr/en/world/x/1"},
        "not json",
        {"path": "pages/1016782.html.gz", "source": "anadolu"},
        {"path": str(tmp_path / "pages" / "1016782.html")},
    ]
    manifest = tmp_path / "list.jsonl"
    manifest.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    done = wirestance("parse", "--manifest", str(manifest))
    assert done.returncode == 1, done.stderr  # some inputs were not articles
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["path"] for o in out] == [
        "pages/1656284.html",
        "pages/index-politics.html",
        "pages/missing.html",
        None,
        "pages/1016782.html.gz",
        str(tmp_path / "pages" / "1016782.html"),
    ]
    assert set(out[0]) >= FIELDS and out[0]["article_id"] == "1656284" and "error" not in out[0]
    assert "an index or category page" in out[1]["error"] and set(out[1]) == {"path", "error"}
    assert "no such file" in out[2]["error"]
    assert "list.jsonl:4" in out[3]["error"]
    assert out[4]["article_id"] == out[5]["article_id"] == "1016782"


def test_generic_parser_is_forced_by_name():
    pytest.importorskip("wirestance.sources.generic", reason="the generic parser lands with the parsers branch")
    done = wirestance(
        "parse",
        str(PAGES / "1656284.html"),
        "--url",
        "https://www.aa.com.tr/en/politics/r/1656284",
        "--source",
        "generic",
    )
    assert done.returncode == 0, done.stderr
    article = json.loads(done.stdout)
    assert article["parser_version"].startswith("generic/")
    assert article["source"] == "anadolu"
