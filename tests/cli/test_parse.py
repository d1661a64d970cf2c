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
    "url", "canonical_url", "source", "article_id", "title", "lede", "authors", "published", "updated",
    "dateline", "category", "tags", "language", "paragraphs", "parser_version",
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
