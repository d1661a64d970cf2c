"""Every agency's real pages against their expected output, from one test (as Fundus runs its parsers).

tests/sources/pages/<agency>/<page>.html.gz is a page exactly as stored by a public extraction project
(see tests/sources/pages/SOURCES.md); <page>.json is the whole `wirestance parse` output we expect
from the agency's dedicated parser; <page>.truth.json is that project's expected body text, with the
differences we keep on purpose listed and explained (`known_differences`). Folder `other` holds pages
of sites without a dedicated parser: the generic fallback's.
"""

from __future__ import annotations

import gzip
import importlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bench.parse_quality import (
    NO_DEDICATED_PARSER,
    RealPage,
    corpus_f1,
    generic_parse,
    page_counts,
    real_pages,
    scored_text,
)
from wirestance.articles import NotAnArticle
from wirestance.sources import get_source
from wirestance.sources.kit import Layout, parse_page

PAGES = Path(__file__).parent / "pages"
AGENCIES = ("anadolu", "ap", "reuters", "aljazeera", "sputnik", "rt")
ALL_PAGES = real_pages(PAGES)
DEDICATED = [page for page in ALL_PAGES if page.agency != NO_DEDICATED_PARSER]


def _id(page: RealPage) -> str:
    return f"{page.agency}/{page.name}"


def _module(agency: str) -> Any:
    return importlib.import_module(f"wirestance.sources.{agency}")


def test_every_agency_has_real_pages_with_expectations() -> None:
    found = {page.agency for page in DEDICATED}
    assert found == set(AGENCIES)
    for page in DEDICATED:
        assert (PAGES / page.agency / f"{page.name}.json").exists(), page.name


@pytest.mark.parametrize("page", DEDICATED, ids=_id)
def test_dedicated_parser_gives_the_expected_article(page: RealPage) -> None:
    expected = json.loads((PAGES / page.agency / f"{page.name}.json").read_text(encoding="utf-8"))
    article = _module(page.agency).parse(page.html, page.url)
    assert article.to_json_dict() == expected
    # Every field of the contract is there, times carry a zone, the layout is named.
    assert article.published.utcoffset() is not None
    assert article.parser_version.startswith(f"{page.agency}/")
    assert article.title and article.paragraphs and article.article_id
    # What a reprocess takes for today's parsers of the source (a stored article of another is parsed again).
    assert article.parser_version in get_source(page.agency).parser_versions()


@pytest.mark.parametrize("page", [p for p in DEDICATED if p.expected_paragraphs is not None], ids=_id)
def test_dedicated_paragraphs_match_the_published_expected_text(page: RealPage) -> None:
    """Paragraph for paragraph: nothing of ours the expected text lacks (no Related, Read more, newsletter,
    credits, share prompts), nothing of it we lack, except the differences listed with their reason."""
    article = _module(page.agency).parse(page.html, page.url)
    expected = page.expected_paragraphs or []
    known = page.truth.get("known_differences", {})
    ours_only = [p for p in article.paragraphs if p not in expected]
    # The expected text may hold the standfirst and the printed dateline; we keep those in their fields.
    truth_only = [p for p in expected if p not in article.paragraphs and p not in (article.lede, article.dateline)]
    assert ours_only == known.get("ours_only", [])
    assert truth_only == known.get("truth_only", [])
    if not known.get("stale_revision"):
        kept = [p for p in expected if p in article.paragraphs]
        assert [p for p in article.paragraphs if p in expected] == kept  # same order


def test_dedicated_parsers_reach_the_f1_target_per_agency() -> None:
    """Token F1 (ScrapingHub benchmark scoring) >= 0.99 per agency, on pages whose expected text is of
    the same revision as the stored page."""
    for agency in AGENCIES:
        counts = []
        for page in DEDICATED:
            if page.agency != agency or page.expected_paragraphs is None:
                continue
            if page.truth.get("known_differences", {}).get("stale_revision"):
                continue
            article = _module(agency).parse(page.html, page.url)
            counts.append(
                page_counts("\n".join(page.expected_paragraphs), scored_text(article, page.expected_paragraphs))
            )
        assert counts, agency
        assert corpus_f1(counts) >= 0.99, agency


def test_snippet_only_page_has_its_text_and_none_of_the_furniture() -> None:
    page = next(p for p in DEDICATED if p.expected_paragraphs is None)
    text = "\n".join(_module(page.agency).parse(page.html, page.url).paragraphs)
    missing = [s for s in page.truth["with"] if s not in text]
    assert missing == page.truth["known_differences"]["missing_snippets"]
    assert not [s for s in page.truth["without"] if s in text]


@pytest.mark.parametrize("agency", AGENCIES)
def test_article_ids_come_from_the_agency_urls_only(agency: str) -> None:
    module = _module(agency)
    for page in (p for p in DEDICATED if p.agency == agency):
        assert module.article_id(page.url), page.url
    for url in ("https://example.com/news/1234567", "ftp://www.aa.com.tr/en/x/1", "not a url", ""):
        assert module.article_id(url) is None


def test_article_ids_of_each_url_form() -> None:
    ap, reuters, aljazeera, sputnik, rt = (_module(a) for a in ("ap", "reuters", "aljazeera", "sputnik", "rt"))
    assert ap.article_id("https://apnews.com/article/x-y-0ac37b0b1ab398ea91df35b88b87d623") == (
        "0ac37b0b1ab398ea91df35b88b87d623"
    )
    assert ap.article_id("https://apnews.com/hub/college-football") is None
    assert reuters.article_id("https://www.reuters.com/world/europe/some-story-2023-12-24/") == "some-story-2023-12-24"
    assert reuters.article_id("https://www.reuters.com/article/us-global-markets-idUSKBN1XT00W") == "USKBN1XT00W"
    assert reuters.article_id("https://www.reuters.com/world/europe/") is None
    assert aljazeera.article_id("https://www.aljazeera.com/news/2023/12/22/some-story") == "2023-12-22-some-story"
    assert aljazeera.article_id("https://www.aljazeera.com/video/2023/12/22/some-clip") is None
    assert sputnik.article_id("https://sputnikglobe.com/20231222/some-story-1115742130.html") == "1115742130"
    assert rt.article_id("https://www.rt.com/news/473849-3-morales/") == "473849"
    assert rt.article_id("https://www.rt.com/news/") is None


def test_published_times_are_in_each_agency_zone() -> None:
    offsets = {}
    for page in DEDICATED:
        article = _module(page.agency).parse(page.html, page.url)
        offsets.setdefault(page.agency, set()).add(article.published.tzname())
    assert offsets["ap"] <= {"EST", "EDT"}
    assert offsets["reuters"] == {"UTC"}
    assert offsets["aljazeera"] == {"+03"}
    assert offsets["sputnik"] == {"MSK"} and offsets["rt"] == {"MSK"}
    # The same instants as the pages' own UTC stamps.
    ap_page = next(p for p in DEDICATED if p.name == "fundus__APNews_2023_04_28")
    published = _module("ap").parse(ap_page.html, ap_page.url).published
    assert published == datetime.fromisoformat("2023-04-28T17:40:08+00:00")
    assert published.isoformat() == "2023-04-28T13:40:08-04:00"


# --- a page in a layout nobody knows ------------------------------------------------------------


def _page_bytes(agency: str, name: str) -> tuple[bytes, str]:
    page = next(p for p in DEDICATED if p.agency == agency and p.name == name)
    return page.html, page.url


@pytest.mark.parametrize("agency", AGENCIES)
def test_unknown_layout_names_every_failed_check_and_gives_no_half_article(agency: str) -> None:
    module = _module(agency)
    html = (
        "<html><head><title>Something</title>"
        '<meta property="og:type" content="article"><meta property="og:title" content="A title">'
        '<meta property="article:published_time" content="2024-01-02T03:04:05Z"></head>'
        "<body><h1>A title</h1><main><p>Some text in markup no layout knows.</p></main></body></html>"
    )
    page = next(p for p in DEDICATED if p.agency == agency)
    with pytest.raises(NotAnArticle) as caught:
        module.parse(html, page.url)
    reason = caught.value.reason
    assert reason.startswith("unknown layout")
    for layout in module.LAYOUTS:
        assert layout.version in reason and layout.requires in reason


def test_a_known_page_with_its_body_removed_is_not_an_article() -> None:
    html, url = _page_bytes("ap", "fundus__APNews_2024_09_03")
    gutted = html.replace(b"RichTextStoryBody", b"SomethingElse")
    with pytest.raises(NotAnArticle, match=r"unknown layout: ap/richtext-v3 needs a div\.RichTextStoryBody body"):
        _module("ap").parse(gutted, url)


def test_layouts_are_chosen_by_markup_not_by_date() -> None:
    # The 2019 hosted.ap.org page and the 2023 apnews.com page each go to their own layout whatever
    # their dates say, and a layout that does not recognise a page says so.
    from wirestance.sources.ap import APHostedV1, APReactV2, APRichTextV3
    from wirestance.sources.kit import Page

    html, url = _page_bytes("ap", "scrapinghub__hosted.ap.org__82b6d780c792")
    page = Page.parse(html, url, timezone=_module("ap").TIMEZONE)
    assert not APRichTextV3.matches(page) and not APReactV2.matches(page) and APHostedV1.matches(page)


def test_parse_page_uses_the_first_layout_that_matches() -> None:
    class Never(Layout):
        version = "test/never"
        requires = "nothing it can find"

        @classmethod
        def match(cls, page: Any) -> Layout | None:
            return None

    html, url = _page_bytes("rt", "scrapinghub__www.rt.com__4a44ab3e4c41")
    rt = _module("rt")
    article = parse_page(html, url, source="rt", timezone=rt.TIMEZONE, layouts=(Never, *rt.LAYOUTS))
    assert article.parser_version == rt.LAYOUTS[0].version
    with pytest.raises(NotAnArticle, match="test/never needs nothing it can find"):
        parse_page(html, url, source="rt", timezone=rt.TIMEZONE, layouts=(Never,))


# --- the generic fallback -----------------------------------------------------------------------


def test_generic_fallback_reaches_the_f1_target_on_all_real_pages() -> None:
    counts = []
    for page in ALL_PAGES:
        if page.expected_paragraphs is None:
            continue
        try:
            article = generic_parse(page.html, page.url)
        except NotAnArticle:
            article = None
        counts.append(page_counts("\n".join(page.expected_paragraphs), scored_text(article, page.expected_paragraphs)))
    assert len(counts) >= 20
    assert corpus_f1(counts) >= 0.95


def test_generic_article_is_whole_and_tagged() -> None:
    import trafilatura

    page = next(p for p in ALL_PAGES if p.name == "fundus__NTVTR_2025_11_10")
    article = generic_parse(page.html, page.url)
    assert article.parser_version == f"generic/{trafilatura.__version__}"
    assert article.source == "generic" and article.title and article.language == "tr"
    assert article.published.utcoffset() is not None
    assert len(article.article_id) == 20


def test_generic_uses_htmldate_when_metadata_has_no_date() -> None:
    from zoneinfo import ZoneInfo

    from wirestance.sources.generic import parse_generic

    body = " ".join(["Words of a long enough article body that trafilatura keeps as main text."] * 8)
    html = (
        "<html lang='en'><head><title>A story | Site</title></head><body><article><h1>A story</h1>"
        f"<p>{body}</p><p>{body}</p></article></body></html>"
    )
    zone = ZoneInfo("Europe/Moscow")
    article = parse_generic(html, "https://news.example.org/2024/03/05/a-story.html", source="x", timezone=zone)
    assert article.published == datetime(2024, 3, 5, tzinfo=zone)
    assert article.title == "A story"
    with pytest.raises(NotAnArticle, match="no publication date"):
        parse_generic(html, "https://news.example.org/a-story", source="x", timezone=zone)


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<html><body><nav><a href='/a'>A</a> <a href='/b'>B</a></nav></body></html>", "generic: "),
        ("<html><body><p>Too short to be an article.</p></body></html>", "generic: "),
        ("", "empty page"),
        (b"%PDF-1.7 binary", "PDF"),
    ],
)
def test_generic_not_an_article_has_a_reason(html: str | bytes, reason: str) -> None:
    from zoneinfo import ZoneInfo

    from wirestance.sources.generic import parse_generic

    with pytest.raises(NotAnArticle) as caught:
        parse_generic(html, "https://news.example.org/x", source="x", timezone=ZoneInfo("UTC"))
    assert reason in caught.value.reason


def test_pages_are_stored_compressed_with_their_expectations() -> None:
    for page in ALL_PAGES:
        raw = (PAGES / page.agency / f"{page.name}.html.gz").read_bytes()
        assert gzip.decompress(raw) == page.html
        assert page.truth["origin"] and page.truth["url"].startswith("http")


@pytest.mark.parametrize(
    "page", [p for p in ALL_PAGES if p.agency == NO_DEDICATED_PARSER and p.expected_paragraphs is None], ids=_id
)
def test_generic_on_snippet_pages_keeps_the_text_and_drops_the_furniture(page: RealPage) -> None:
    """Chinese pages of the trafilatura evaluation set: no spaces between words, a date only in the URL."""
    article = generic_parse(page.html, page.url)
    text = "\n".join(article.paragraphs)
    assert all(snippet in text for snippet in page.truth["with"])
    assert not any(snippet in text for snippet in page.truth["without"])
    assert article.published.strftime("/%Y-%m/%d/") in page.url  # htmldate read the date the URL carries
