"""Parse: our AA parsers against a bare lxml parse selecting the same body paragraphs, and trafilatura."""

from __future__ import annotations

from collections.abc import Sequence

import lxml.html
from lxml import etree

from bench.corpus import Page
from bench.results import Results, best_seconds, ratio
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
