"""The generic fallback for any news site: body from trafilatura, metadata from JSON-LD, Open Graph and htmldate.

A source declared with `parser = "generic"` (or an agency page in a layout no dedicated parser knows,
when the fallback is switched on for that source) is read here. The page is parsed once with our
own parser (charset handling, refusal of non-HTML); trafilatura gets that tree. Articles are tagged
`generic/<trafilatura version>` so they can be told apart from dedicated parses and re-parsed later.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, tzinfo
from functools import cache

from wirestance.articles import Article, NotAnArticle
from wirestance.parsing import html_language, json_ld_names, normalize_text
from wirestance.sources.kit import Page, at_zone, first_text, parse_iso, split_byline, split_tags

_TITLE = "//title"
# Site names appended to <title> ("Headline | Site", "Headline - Site").
_TITLE_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]{2,60}$")
#: Below this many words (and characters: Chinese or Japanese text has no spaces between words), what
#: trafilatura found is a teaser or a navigation block, not an article.
MIN_WORDS = 40
MIN_CHARACTERS = 200


@cache
def parser_version() -> str:
    import trafilatura

    return f"generic/{trafilatura.__version__}"


def _body_paragraphs(page: Page) -> list[str]:
    # Imported here: trafilatura (and lxml_html_clean under it) cost ~0.3 s to import, and most runs
    # only parse agencies with dedicated parsers.
    import trafilatura

    text = trafilatura.extract(
        page.root,
        url=page.url,
        include_comments=False,
        output_format="txt",
        with_metadata=False,
        deduplicate=False,
    )
    return [line for line in (normalize_text(raw) for raw in (text or "").split("\n")) if line]


def _stamp(page: Page, ld_key: str, *meta_keys: str) -> datetime | None:
    for raw in (page.ld_text(ld_key), *(page.first_meta(key) for key in meta_keys)):
        if raw:
            try:
                return at_zone(parse_iso(raw, tz=page.timezone), page.timezone)
            except ValueError:
                continue
    return None


def _htmldate(page: Page) -> datetime | None:
    """The publication day htmldate finds in the markup (URL, visible dates), at midnight in the source's zone."""
    from htmldate import find_date

    found = find_date(page.root, url=page.url, original_date=True, extensive_search=False)
    if not found:
        return None
    return datetime.fromisoformat(found).replace(tzinfo=page.timezone)


def _title(page: Page) -> str | None:
    declared = page.ld_text("headline") or page.first_meta("og:title", "twitter:title")
    if declared:
        return declared
    printed = first_text(page.root.xpath("//h1")) or first_text(page.root.xpath(_TITLE))
    return _TITLE_SUFFIX.sub("", printed) if printed else None


def _authors(page: Page) -> list[str]:
    names = json_ld_names((page.news_article() or {}).get("author"))
    if names:
        return names
    byline = page.first_meta("author", "article:author", "og:article:author", "sailthru.author", "dc.creator")
    if not byline or byline.startswith(("http://", "https://")):
        return []
    return split_byline(byline)


def _language(page: Page) -> str:
    declared = page.ld_text("inLanguage") or html_language(page.root) or page.first_meta("og:locale")
    return (declared or "und").replace("_", "-").split("-")[0].lower()


def _tags(page: Page) -> list[str]:
    if page.meta.get("article:tag"):
        return split_tags(page.meta["article:tag"])
    keywords = (page.news_article() or {}).get("keywords")
    if isinstance(keywords, list):
        return split_tags(str(k) for k in keywords)
    if isinstance(keywords, str):
        return split_tags([keywords])
    return split_tags(page.meta.get("news_keywords", []) or page.meta.get("keywords", []))


def generic_article_id(canonical_url: str) -> str:
    """Sites without a dedicated parser have no known id scheme: a short stable hash of the canonical URL."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:20]


def parse_generic(html: bytes | str, url: str, *, source: str, timezone: tzinfo) -> Article:
    """The article of any news page, or NotAnArticle with the reason trafilatura or the metadata gave."""
    # trafilatura's own parser drops comments; with them in the tree it loses the text that follows a
    # comment inside a paragraph (React pages put <!-- --> between text runs).
    page = Page.parse(html, url, timezone=timezone, drop_comments=True)
    # Metadata first: trafilatura prunes the tree it is given.
    title = _title(page)
    published = _stamp(page, "datePublished", "article:published_time", "og:article:published_time", "pubdate")
    updated = _stamp(page, "dateModified", "article:modified_time", "og:article:modified_time")
    if published is None:
        published = _htmldate(page)
    lede = page.ld_text("description") or page.first_meta("og:description", "description")
    authors = _authors(page)
    category = page.ld_text("articleSection") or page.first_meta("article:section", "og:article:section")
    tags = _tags(page)
    language = _language(page)
    canonical = page.canonical_url

    paragraphs = _body_paragraphs(page)
    words = sum(len(p.split()) for p in paragraphs)
    if not paragraphs:
        raise NotAnArticle(url, "generic: trafilatura found no article text on the page")
    if words < MIN_WORDS and sum(len(p) for p in paragraphs) < MIN_CHARACTERS:
        raise NotAnArticle(url, f"generic: only {words} words of text found, not an article")
    if not title:
        raise NotAnArticle(url, "generic: no title in JSON-LD, Open Graph, <h1> or <title>")
    if published is None:
        raise NotAnArticle(url, "generic: no publication date in JSON-LD, meta tags, the URL or the page")
    return Article(
        url=url,
        canonical_url=canonical,
        source=source,
        article_id=generic_article_id(canonical),
        title=title,
        lede=lede,
        authors=authors,
        published=published,
        updated=updated if updated is not None and updated > published else None,
        dateline=None,
        category=category,
        tags=tags,
        language=language,
        paragraphs=paragraphs,
        parser_version=parser_version(),
    )
