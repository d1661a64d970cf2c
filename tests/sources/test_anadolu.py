"""The Anadolu Agency source: real pages against their expected output, the sample site, ids, errors."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from wirestance.articles import Article, NotAnArticle
from wirestance.parsing import ISTANBUL, normalize_text, parse_iso_datetime, parse_site_date
from wirestance.samples import render_article, synthetic_pages
from wirestance.samples.build import FEED_CATEGORIES, render_feed
from wirestance.samples.render import category_slug
from wirestance.sources.anadolu import SOURCE, AnadoluLegacyV1, AnadoluNextV2

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "tests" / "fixtures" / "pages"
SITE = REPO / "data" / "samples" / "anadolu_en"
SPECS: list[dict[str, Any]] = json.loads((SITE / "articles.json").read_text(encoding="utf-8"))
SEED = next(spec for spec in SPECS if spec.get("seed"))
HAS_NOTICE = "Anadolu Agency website contains only a portion of the news stories"

# The two real pages (Turkish edition; the English edition used the same templates) and their URLs.
REAL = {
    "V1": (
        "fundus__AnadoluAjansi_2025_04_05.html.gz",
        "https://www.aa.com.tr/tr/ekonomi/turkiyede-elektrikli-arac-sarj-istasyonu-sayisi-11-bini-asti/3529015",
        AnadoluLegacyV1.version,
    ),
    "V2": (
        "fundus__AnadoluAjansi_2026_04_20.html.gz",
        "https://www.aa.com.tr/tr/gundem/vekalet-yoluyla-kurban-kesim-bedelleri-belirlendi/3912126",
        AnadoluNextV2.version,
    ),
}
GROUND_TRUTH: dict[str, Any] = json.loads((PAGES / "fundus__tr_AnadoluAjansi.json").read_text(encoding="utf-8"))
# The copied ground truth is kept as its project stores it. Its V1 date reads 2025-05-04: that project
# read the page's "05.04.2025" month first. The page, the crawl date (2025-04-05) and the image
# paths (/2025/04/05/) all say April 5th, so the expectation is corrected here, not in the file.
CORRECTED_DATES = {"V1": datetime(2025, 4, 5, tzinfo=ISTANBUL)}


def real_page(version: str) -> tuple[bytes, str]:
    name, url, _ = REAL[version]
    return gzip.decompress((PAGES / name).read_bytes()), url


def sample_page(spec: dict[str, Any]) -> bytes:
    return (SITE / "pages" / f"{spec['id']}.html").read_bytes()


def expected_article(spec: dict[str, Any]) -> dict[str, Any]:
    """The `wirestance parse` JSON a spec promises."""
    return {
        "url": spec["url"],
        "canonical_url": spec["url"],
        "source": "anadolu",
        "article_id": spec["id"],
        "title": spec["title"],
        "lede": spec["lede"],
        "authors": spec["authors"],
        "published": datetime.fromisoformat(spec["published"]).isoformat(),
        "updated": datetime.fromisoformat(spec["updated"]).isoformat() if spec["updated"] else None,
        "dateline": spec["dateline"],
        "category": spec["category"],
        "tags": spec["tags"],
        "language": "en",
        "paragraphs": spec["paragraphs"],
        "parser_version": {"legacy": AnadoluLegacyV1.version, "nextjs": AnadoluNextV2.version}[spec["layout"]],
        "capture_time": None,
        "capture_origin": None,
    }


# --- real pages against their expected output --------------------------------------------------


@pytest.mark.parametrize("version", sorted(REAL))
def test_real_page_matches_ground_truth(version: str) -> None:
    html, url = real_page(version)
    truth = GROUND_TRUTH[version]
    article = SOURCE.parse(html, url)

    assert article.parser_version == REAL[version][2]
    assert article.title == truth["title"]
    assert article.authors == truth["authors"]
    assert article.lede == truth["body"]["summary"][0]
    truth_date = datetime.fromisoformat(truth["publishing_date"]).replace(tzinfo=ISTANBUL)
    assert article.published == CORRECTED_DATES.get(version, truth_date)

    # The expected body is sections of paragraphs under sub-headlines; ours is the paragraphs alone.
    # It counts the legacy dateline ("Ankara") as the first paragraph; we keep it in `dateline`.
    expected = [p for section in truth["body"]["sections"] for p in section["paragraphs"]]
    if version == "V1":
        assert expected[0] == article.dateline == "Ankara"
        expected = expected[1:]
    assert article.paragraphs == [normalize_text(p) for p in expected]
    headlines = {h for section in truth["body"]["sections"] for h in section["headline"]}
    assert headlines.isdisjoint(article.paragraphs)

    # Tags: the expected V2 topics are the JSON-LD keywords left as one comma-joined string.
    expected_tags = [t.strip() for topic in truth["topics"] for t in topic.split(",")]
    assert article.tags == expected_tags


def test_legacy_real_page_reads_the_date_day_first_and_drops_boilerplate() -> None:
    html, url = real_page("V1")
    article = SOURCE.parse(html, url)
    assert GROUND_TRUTH["V1"]["publishing_date"].startswith("2025-05-04")  # the known fault is still there
    assert article.published.isoformat() == "2025-04-05T00:00:00+03:00"
    assert article.updated is None  # "Güncelleme : 05.04.2025" is the publication day
    assert article.category == "Ekonomi"
    assert article.language == "tr"
    assert article.article_id == "3529015"
    assert all(article.paragraphs)
    assert not any("Abonelik" in p or "AA Haber Akış Sistemi" in p for p in article.paragraphs)


def test_nextjs_real_page_reads_json_ld_times_and_skips_hidden_chunks_noise() -> None:
    html, url = real_page("V2")
    article = SOURCE.parse(html, url)
    # JSON-LD datePublished, not the later article:published_time meta (14:15:30.813).
    assert article.published == datetime(2026, 4, 20, 14, 9, 42, 493000, tzinfo=ISTANBUL)
    assert article.updated == datetime(2026, 4, 20, 14, 15, 30, 453000, tzinfo=ISTANBUL)
    assert article.dateline == "Ankara"
    assert article.category == "Gündem"
    assert article.language == "tr"
    assert article.canonical_url == url
    # No photo caption, share block, subscription notice or "previous/next" headline.
    joined = " ".join(article.paragraphs)
    assert "Fotoğraf" not in joined and "Haberi Paylaş" not in joined and "Abonelik" not in joined
    assert "Gümrük Muhafaza" not in joined


# --- the seed article ----------------------------------------------------------------------------


def test_seed_page_gives_the_seed_text() -> None:
    text = (PAGES / "seed_anadolu_en_2019_11_26.txt").read_text(encoding="utf-8")
    blocks = [line for line in text.split("\n") if line.strip()]
    seed_paragraphs = blocks[6:-1]  # after category/title/lede/byline/photo alt/dateline, before the footer
    assert len(seed_paragraphs) == 13

    article = SOURCE.parse(sample_page(SEED), SEED["url"])
    assert article.paragraphs == seed_paragraphs
    assert article.title == "Russia eyes further military cooperation with Turkey" == blocks[1]
    assert article.lede == blocks[2]
    assert article.authors == ["Elena Teslova"]
    assert article.published == datetime(2019, 11, 26, tzinfo=ISTANBUL)
    assert article.published.utcoffset() is not None and article.published.tzinfo == ISTANBUL
    assert article.updated is None
    assert article.dateline == "MOSCOW"
    assert article.category == "Politics"
    assert article.parser_version == AnadoluLegacyV1.version
    assert not any(HAS_NOTICE in p for p in article.paragraphs)
    # The footer is on the page, in span.detay-foto-editor, and only the parser leaves it out.
    assert HAS_NOTICE in sample_page(SEED).decode("utf-8")


# --- the offline sample site ----------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=[f"{s['id']}-{s['layout']}" for s in SPECS])
def test_sample_article_equals_its_spec(spec: dict[str, Any]) -> None:
    html = sample_page(spec)
    assert html.decode("utf-8") == render_article(spec, spec["layout"]), "stale page: run the samples build"
    article = SOURCE.parse(html, spec["url"])
    assert article.to_json_dict() == expected_article(spec)


def test_sample_site_covers_what_the_demo_needs() -> None:
    s400 = [s for s in SPECS if s["topic"] == "s400"]
    nextjs = [s for s in s400 if s["layout"] == "nextjs"]
    assert len(s400) >= 22 and len(nextjs) >= 6
    assert all(s["published"][:4] in {"2017", "2018", "2019", "2020", "2021"} for s in s400 if s["layout"] == "legacy")
    assert all(s["published"].startswith("2026") for s in SPECS if s["layout"] == "nextjs")
    assert {category_slug(s) for s in s400} == set(FEED_CATEGORIES)
    days = [s["published"][:10] for s in SPECS]
    assert any(days.count(day) >= 2 for day in days)
    assert any(s["updated"] and s["updated"] > s["published"] for s in SPECS)
    assert any(s["tags"] for s in SPECS) and any(s["topic"] != "s400" for s in SPECS)
    assert len({s["id"] for s in SPECS}) == len(SPECS)


@pytest.mark.parametrize("slug", sorted(FEED_CATEGORIES))
def test_feeds_list_their_section_newest_first(slug: str) -> None:
    stored = (SITE / "feeds" / f"{slug}.xml").read_text(encoding="utf-8")
    assert stored == render_feed(SPECS, slug, FEED_CATEGORIES[slug])
    items = ElementTree.fromstring(stored).findall("./channel/item")
    by_id = {s["id"]: s for s in SPECS}
    ids = [SOURCE.article_id(item.findtext("link") or "") for item in items]
    assert ids and all(i in by_id and category_slug(by_id[i]) == slug for i in ids if i)
    assert [item.findtext("guid") for item in items] == [item.findtext("link") for item in items]
    stamps = [datetime.strptime(item.findtext("pubDate") or "", "%a, %d %b %Y %H:%M:%S %z") for item in items]
    assert stamps == sorted(stamps, reverse=True)


def test_manifest_routes_every_file() -> None:
    manifest = json.loads((SITE / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["origin"] == "https://www.aa.com.tr"
    paths = {route["path"]: route for route in manifest["routes"]}
    for spec in SPECS:
        route = paths[spec["url"].removeprefix("https://www.aa.com.tr")]
        assert route["file"] == f"pages/{spec['id']}.html"
        assert route["content_type"] == "text/html; charset=utf-8"
    for slug in FEED_CATEGORIES:
        assert paths[f"/en/rss/default?cat={slug}"]["content_type"] == "application/rss+xml; charset=utf-8"
    assert "/robots.txt" in paths
    assert all((SITE / route["file"]).is_file() for route in manifest["routes"])
    assert "Disallow: /en/search/" in (SITE / "robots.txt").read_text(encoding="utf-8")


# --- the parser is chosen by markup, not by date -------------------------------------------------


def test_legacy_markup_with_a_2026_date_uses_the_legacy_parser() -> None:
    spec = {**SEED, "published": "2026-04-20T00:00:00+03:00", "updated": None}
    article = SOURCE.parse(render_article(spec, "legacy"), spec["url"])
    assert article.parser_version == AnadoluLegacyV1.version
    assert article.published == datetime(2026, 4, 20, tzinfo=ISTANBUL)


def test_nextjs_markup_with_a_2019_date_uses_the_nextjs_parser() -> None:
    spec = {**SEED, "published": "2019-11-26T10:31:00.000+03:00", "updated": None}
    article = SOURCE.parse(render_article(spec, "nextjs"), spec["url"])
    assert article.parser_version == AnadoluNextV2.version
    assert article.paragraphs == SEED["paragraphs"]
    assert article.published == datetime(2019, 11, 26, 10, 31, tzinfo=ISTANBUL)


def test_nextjs_page_without_next_markers_is_still_known_by_its_json_ld() -> None:
    html = render_article(SEED, "nextjs")
    stripped = re.sub(r"<(script|link)[^>]+/_next/[^>]*>(</script>)?|<meta name=\"next-size-adjust\"[^>]*>", "", html)
    assert "/_next/" not in stripped.split("</head>")[0]
    assert SOURCE.parse(stripped, SEED["url"]).parser_version == AnadoluNextV2.version


def test_legacy_page_takes_the_time_of_day_from_meta_only_when_the_day_agrees() -> None:
    html = sample_page(SEED).decode("utf-8")
    with_time = html.replace(
        "<head>", '<head><meta property="article:published_time" content="2019-11-26T14:35:10+03:00">', 1
    )
    assert SOURCE.parse(with_time, SEED["url"]).published == datetime(2019, 11, 26, 14, 35, 10, tzinfo=ISTANBUL)
    # A meta that read the printed date month first (May 11th) must not move the day.
    swapped = html.replace("<head>", '<head><meta property="article:published_time" content="2019-05-11T09:00">', 1)
    assert SOURCE.parse(swapped, SEED["url"]).published == datetime(2019, 11, 26, tzinfo=ISTANBUL)


def test_legacy_update_on_a_later_day_is_kept() -> None:
    spec = next(s for s in SPECS if s["layout"] == "legacy" and s["updated"])
    article = SOURCE.parse(sample_page(spec), spec["url"])
    assert article.updated is not None and article.updated > article.published


# --- article ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.aa.com.tr/en/politics/some-slug/1655872", "1655872"),
        ("http://www.aa.com.tr/en/politics/some-slug/1655872", "1655872"),
        ("https://www.aa.com.tr/en/politics/some-slug/1655872/", "1655872"),
        ("https://www.aa.com.tr/en/politics/some-slug/1655872?utm_source=rss&amp=1", "1655872"),
        ("https://www.aa.com.tr/en/politics/some-slug/1655872#comments", "1655872"),
        ("https://www.aa.com.tr/en/amp/politics/some-slug/1655872", "1655872"),
        ("https://www.aa.com.tr/en/politics/some-slug/1655872/amp", "1655872"),
        ("https://m.aa.com.tr/en/politics/some-slug/1655872", "1655872"),
        ("https://aa.com.tr/tr/gundem/vekalet-yoluyla-kurban-kesim-bedelleri-belirlendi/3912126", "3912126"),
        ("http://v.aa.com.tr/1655872", "1655872"),
        ("http://127.0.0.1:8765/en/politics/some-slug/1655872", "1655872"),  # the offline replay
        ("https://www.aa.com.tr/en/politics", None),
        ("https://www.aa.com.tr/en", None),
        ("https://www.aa.com.tr/", None),
        ("https://www.aa.com.tr/en/rss/default?cat=politics", None),
        ("https://www.aa.com.tr/en/p/subscription-request-form/1001", None),
        ("https://www.aa.com.tr/en/pgc/photo-gallery/0", None),
        ("https://www.aa.com.tr/en/info/infographic/0", None),
        ("https://www.aa.com.tr/en/search/?s=S-400&tag=1", None),
        ("https://www.aa.com.tr/en/politics/some-slug/0", None),
        ("https://evil.example.net/en/politics/some-slug/1655872", None),
        ("https://www.aa.com.tr.evil.example/en/politics/some-slug/1655872", None),
        ("ftp://www.aa.com.tr/en/politics/some-slug/1655872", None),
        ("not a url", None),
    ],
)
def test_article_id(url: str, expected: str | None) -> None:
    assert SOURCE.article_id(url) == expected


def test_article_id_falls_back_to_the_page_url_when_the_canonical_has_none() -> None:
    html = sample_page(SEED).decode("utf-8").replace(SEED["url"], "https://www.aa.com.tr/en/politics")
    article = SOURCE.parse(html, SEED["url"])
    assert article.canonical_url == "https://www.aa.com.tr/en/politics"
    assert article.article_id == SEED["id"]


# --- pages that are not articles -----------------------------------------------------------------


def _not_an_article(html: bytes | str, url: str = "https://www.aa.com.tr/en/politics/x/123456") -> NotAnArticle:
    with pytest.raises(NotAnArticle) as caught:
        SOURCE.parse(html, url)
    assert url in str(caught.value)
    return caught.value


def test_index_page_is_not_an_article() -> None:
    error = _not_an_article((SITE / "pages" / "index-politics.html").read_bytes(), "https://www.aa.com.tr/en/politics")
    assert "index" in error.reason


def test_404_page_is_not_an_article() -> None:
    assert "404" in _not_an_article((SITE / "pages" / "not-found.html").read_bytes()).reason


@pytest.mark.parametrize("body", [b"", b"   \n\t ", ""])
def test_empty_response_is_not_an_article(body: bytes | str) -> None:
    assert "empty" in _not_an_article(body).reason


def test_pdf_bytes_are_not_an_article() -> None:
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + bytes(range(256))
    assert "PDF" in _not_an_article(pdf).reason


def test_binary_bytes_are_not_an_article() -> None:
    assert "binary" in _not_an_article(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)).reason


def test_unknown_layout_is_not_an_article() -> None:
    html = "<html><head><title>S-400</title></head><body><article><h1>S-400</h1><p>Text.</p></article></body></html>"
    assert "unknown layout" in _not_an_article(html).reason


@pytest.mark.parametrize("layout", ["legacy", "nextjs"])
def test_article_without_body_paragraphs_is_not_an_article(layout: str) -> None:
    spec = {**SEED, "paragraphs": []}
    assert "empty body" in _not_an_article(render_article(spec, layout), SEED["url"]).reason


def test_legacy_article_without_title_or_date_is_not_an_article() -> None:
    html = sample_page(SEED).decode("utf-8")
    no_title = re.sub(r"<h1>[^<]*</h1>", "<h1> </h1>", html)
    no_title = re.sub(r'<meta property="og:title"[^>]*>', "", no_title)
    assert "no title" in _not_an_article(no_title, SEED["url"]).reason
    no_date = html.replace("26.11.2019 - Update : 26.11.2019", "")
    assert "no publication date" in _not_an_article(no_date, SEED["url"]).reason


def test_nextjs_article_without_a_date_is_not_an_article() -> None:
    spec = next(s for s in SPECS if s["layout"] == "nextjs")
    html = sample_page(spec).decode("utf-8")
    html = re.sub(r'"date(Published|Modified)":"[^"]*",', "", html)
    html = re.sub(r'<meta property="article:(published|modified)_time"[^>]*>', "", html)
    assert "no publication date" in _not_an_article(html, spec["url"]).reason


# --- feeds, registry, helpers ------------------------------------------------------------------


def test_feed_urls() -> None:
    assert SOURCE.feed_urls(["politics", "world"]) == [
        "https://www.aa.com.tr/en/rss/default?cat=politics",
        "https://www.aa.com.tr/en/rss/default?cat=world",
    ]
    assert SOURCE.feed_urls([], "http://127.0.0.1:8765/") == [
        f"http://127.0.0.1:8765/en/rss/default?cat={c}" for c in ("politics", "world", "turkiye")
    ]


def test_date_helpers_never_swap_day_and_month() -> None:
    assert parse_site_date("05.04.2025", "%d.%m.%Y") == datetime(2025, 4, 5, tzinfo=ISTANBUL)
    assert parse_iso_datetime("2026-04-20T14:09:42.493").tzinfo == ISTANBUL
    assert parse_iso_datetime("2026-04-20T11:09:42Z").isoformat() == "2026-04-20T11:09:42+00:00"
    assert normalize_text("  Türkiye\u00a0\u200b de\n\tşarj ") == "Türkiye de şarj"


def test_article_dataclass_is_what_parse_returns() -> None:
    assert isinstance(SOURCE.parse(sample_page(SEED), SEED["url"]), Article)


# --- synthetic pages ---------------------------------------------------------------------------


def test_synthetic_pages_are_deterministic_and_parse_back_to_their_spec() -> None:
    first = list(synthetic_pages(120, seed=7))
    assert first == list(synthetic_pages(120, seed=7))
    assert [spec for _, _, spec in first] != [spec for _, _, spec in synthetic_pages(120, seed=8)]
    assert {spec["layout"] for _, _, spec in first} == {"legacy", "nextjs"}
    for url, html, spec in first:
        assert 4 <= len(spec["paragraphs"]) <= 25
        assert all(15 <= len(p.split()) <= 90 for p in spec["paragraphs"])
        assert SOURCE.parse(html, url).to_json_dict() == expected_article(spec)
