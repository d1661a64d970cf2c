"""Parse: our AA parsers on synthetic pages, and every agency's parser and the generic fallback on real pages.

Each parser is measured against a floor in the same run: a bare lxml parse of the same page plus one
XPath selecting its body paragraphs (the least any parser must do); the generic fallback against
trafilatura.extract on the same pages (the library doing only the body, with its own parse).
"""

from __future__ import annotations

from collections.abc import Sequence

import lxml.html
from lxml import etree

from bench.corpus import Page
from bench.parse_quality import NO_DEDICATED_PARSER, RealPage, dedicated_parser, generic_parse, real_pages
from bench.results import Results, best_seconds, ratio
from wirestance.articles import NotAnArticle
from wirestance.sources.anadolu import SOURCE


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# The floor: one parse, one XPath for the body paragraphs of either layout, whitespace collapsed.
_FLOOR_PARAGRAPHS = etree.XPath(
    f"//div[{_has_class('detay-icerik')}]//p[not(ancestor::span[{_has_class('detay-foto-editor')}])"
    f" and not(ancestor::div[{_has_class('detay-paylas')}])]"
    f" | //div[{_has_class('prose')}]//p[not(ancestor::figure)]"
)


def floor_paragraphs(html: str) -> list[str]:
    root = lxml.html.document_fromstring(html)
    texts = (" ".join(p.text_content().split()) for p in _FLOOR_PARAGRAPHS(root))
    return [text for text in texts if text]


def ours_paragraphs(page: Page) -> list[str]:
    return SOURCE.parse(page.html, page.url).paragraphs


def trafilatura_text(page: Page) -> str | None:
    import trafilatura

    return trafilatura.extract(page.html, url=page.url)


# Per agency: one XPath for the body paragraphs of any of its layouts (the floor's whole extraction).
_REAL_FLOOR_PARAGRAPHS = {
    "anadolu": _FLOOR_PARAGRAPHS,
    "ap": etree.XPath(
        f"//div[{_has_class('RichTextStoryBody')} or {_has_class('Article')}]/p"
        f" | //div[{_has_class('ap-story')}]//block/p"
    ),
    "reuters": etree.XPath(
        "//*[starts-with(@data-testid, 'paragraph-')] | //div[contains(@class, 'ArticleBodyWrapper')]/p"
        " | //div[contains(@class, 'StandardArticleBody_body')]/p"
    ),
    "aljazeera": etree.XPath(f"//div[{_has_class('wysiwyg')} or {_has_class('article-p-wrapper')}]/p"),
    "sputnik": etree.XPath("//div[@itemprop='articleBody']/p"),
    "rt": etree.XPath(f"//div[{_has_class('article__text')}]/p"),
}


def real_floor_paragraphs(agency: str, html: bytes) -> list[str]:
    root = lxml.html.document_fromstring(html)
    texts = (" ".join(p.text_content().split()) for p in _REAL_FLOOR_PARAGRAPHS[agency](root))
    return [text for text in texts if text]


def _generic_or_none(page: RealPage) -> object:
    try:
        return generic_parse(page.html, page.url)
    except NotAnArticle:
        return None


def run_real_pages(results: Results, repeats: int) -> None:
    """Pages per second of each dedicated parser on its real pages, and of the generic fallback on all."""
    pages = real_pages()
    agencies = sorted({p.agency for p in pages} - {NO_DEDICATED_PARSER})
    for agency in agencies:
        group = [p for p in pages if p.agency == agency]
        parse = dedicated_parser(agency)
        ours = len(group) / best_seconds(lambda: [parse(p.html, p.url) for p in group], repeats)  # noqa: B023
        floor = len(group) / best_seconds(
            lambda: [real_floor_paragraphs(agency, p.html) for p in group],  # noqa: B023
            repeats,
        )
        results.add(f"parse_{agency}_pages_per_s", ours, f"{agency} parser on its {len(group)} real pages")
        results.add(f"parse_{agency}_ratio_vs_lxml", ratio(ours, floor), "target >= 0.5")
    generic = len(pages) / best_seconds(lambda: [_generic_or_none(p) for p in pages], repeats)
    extractor = len(pages) / best_seconds(lambda: [trafilatura_text_of(p) for p in pages], repeats)
    results.add(
        "parse_generic_pages_per_s", generic, f"generic fallback (body and metadata) on {len(pages)} real pages"
    )
    results.add("parse_trafilatura_real_pages_per_s", extractor, "trafilatura.extract (body only) on the same pages")
    results.add("parse_generic_ratio_vs_trafilatura", ratio(generic, extractor), "target >= 1")


def trafilatura_text_of(page: RealPage) -> str | None:
    import trafilatura

    return trafilatura.extract(page.html, url=page.url, include_comments=False)


def run(results: Results, pages: Sequence[Page], repeats: int) -> None:
    """Pages per second on one core (this process is single-threaded), best of `repeats` passes each."""
    same = sum(ours_paragraphs(p) == floor_paragraphs(p.html) for p in pages)
    results.note(f"parse: {len(pages)} pages; the lxml floor finds the same paragraphs as ours on {same}")
    ours = len(pages) / best_seconds(lambda: [ours_paragraphs(p) for p in pages], repeats)
    floor = len(pages) / best_seconds(lambda: [floor_paragraphs(p.html) for p in pages], repeats)
    extractor = len(pages) / best_seconds(lambda: [trafilatura_text(p) for p in pages], 1)
    results.add("parse_pages_per_s", ours, "our AA parser (layout detection, every field), one core")
    results.add("parse_lxml_pages_per_s", floor, "bare lxml parse + one XPath for the body paragraphs")
    results.add("parse_trafilatura_pages_per_s", extractor, "trafilatura.extract, one pass")
    results.add("parse_ratio_vs_lxml", ratio(ours, floor), "target >= 0.5")
    results.add("parse_ratio_vs_trafilatura", ratio(ours, extractor), "target >= 5")
    run_real_pages(results, repeats)
