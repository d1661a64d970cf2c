"""Body-text quality of the dedicated parsers and the generic fallback on the real pages under tests/sources/pages.

Scored the way the ScrapingHub article-extraction benchmark scores `articleBody`: the text is cut
into \\w+ tokens, tokens into overlapping 4-token shingles; per page the shingle counts give true
positives, false positives and false negatives, normalised by their sum so long pages weigh no more
than short ones; precision and recall are averaged over pages and F1 is taken from the two averages.

The text we score is the article's paragraphs, preceded by its lede when the expected text starts
with that very standfirst and the paragraphs do not already hold it (some annotators count the
printed standfirst as body text, others do not; the contract keeps it in `lede`). Pages whose
expected text is only "must contain / must not contain" snippets (the trafilatura evaluation set)
are checked by tests, not scored here.

    python -m bench.parse_quality          # the table the README's "Parsers" section shows
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wirestance.articles import Article, NotAnArticle

PAGES = Path(__file__).resolve().parents[1] / "tests" / "sources" / "pages"
#: Folders of pages without a dedicated parser: scored with the generic fallback only.
NO_DEDICATED_PARSER = "other"
_TOKEN = re.compile(r"\w+")
SHINGLE = 4


@dataclass(frozen=True)
class RealPage:
    agency: str
    name: str
    url: str
    html: bytes
    truth: dict[str, Any]

    @property
    def expected_paragraphs(self) -> list[str] | None:
        return self.truth.get("paragraphs")


def real_pages(root: Path = PAGES) -> list[RealPage]:
    """Every stored page with its expected text, agency folder by agency folder."""
    pages = []
    for truth_path in sorted(root.glob("*/*.truth.json")):
        name = truth_path.name.removesuffix(".truth.json")
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        html = gzip.decompress((truth_path.parent / f"{name}.html.gz").read_bytes())
        pages.append(RealPage(truth_path.parent.name, name, truth["url"], html, truth))
    return pages


# --- the benchmark's scoring -------------------------------------------------------------------


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    if len(tokens) < SHINGLE:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1))


@dataclass(frozen=True)
class Counts:
    """Shingle true positives, false positives and false negatives of one page, as shares of their sum."""

    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def page_counts(expected: str, predicted: str) -> Counts:
    truth, guess = _shingles(expected), _shingles(predicted)
    tp = sum((truth & guess).values())
    fp = sum((guess - truth).values())
    fn = sum((truth - guess).values())
    total = tp + fp + fn
    return Counts(tp / total, fp / total, fn / total) if total else Counts(0.0, 0.0, 0.0)


def corpus_f1(counts: Sequence[Counts]) -> float:
    """F1 of the mean precision and mean recall over pages, as the benchmark reports it."""
    if not counts:
        return float("nan")
    precision = statistics.mean(c.precision for c in counts)
    recall = statistics.mean(c.recall for c in counts)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def scored_text(article: Article | None, expected: Sequence[str]) -> str:
    """The article's text as scored: its paragraphs, after its lede when the expected text opens with it."""
    if article is None:
        return ""
    opens_with_lede = bool(article.lede) and bool(expected) and expected[0] == article.lede
    lead = [article.lede] if opens_with_lede and article.lede not in article.paragraphs else []
    return "\n".join([*lead, *article.paragraphs])


# --- parsers under test ------------------------------------------------------------------------


def dedicated_parser(agency: str) -> Callable[[bytes, str], Article]:
    import importlib

    module = importlib.import_module(f"wirestance.sources.{agency}")
    return module.parse  # type: ignore[no-any-return]


def generic_parse(html: bytes, url: str) -> Article:
    from zoneinfo import ZoneInfo

    from wirestance.sources.generic import parse_generic

    return parse_generic(html, url, source="generic", timezone=ZoneInfo("UTC"))


def _try(parse: Callable[[bytes, str], Article], page: RealPage) -> Article | None:
    try:
        return parse(page.html, page.url)
    except NotAnArticle:
        return None


@dataclass(frozen=True)
class PageScore:
    page: RealPage
    dedicated: Counts | None
    generic: Counts
    trafilatura: Counts


def score_pages(pages: Sequence[RealPage]) -> Iterator[PageScore]:
    import trafilatura

    for page in pages:
        expected = page.expected_paragraphs
        if expected is None:
            continue
        truth = "\n".join(expected)
        dedicated = None
        if page.agency != NO_DEDICATED_PARSER:
            dedicated = page_counts(truth, scored_text(_try(dedicated_parser(page.agency), page), expected))
        generic = page_counts(truth, scored_text(_try(generic_parse, page), expected))
        bare = page_counts(truth, trafilatura.extract(page.html, url=page.url, include_comments=False) or "")
        yield PageScore(page, dedicated, generic, bare)


def table(scores: Sequence[PageScore]) -> str:
    """Markdown: one row per agency, then all pages."""
    rows = [
        "| agency | pages | dedicated F1 | dedicated F1, same revision | generic F1 | trafilatura.extract F1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    by_agency: dict[str, list[PageScore]] = {}
    for score in scores:
        by_agency.setdefault(score.page.agency, []).append(score)

    def cell(values: list[Counts | None]) -> str:
        present = [v for v in values if v is not None]
        return f"{corpus_f1(present):.3f}" if present else "-"

    def same_revision(group: list[PageScore]) -> list[Counts | None]:
        return [s.dedicated for s in group if not s.page.truth.get("known_differences", {}).get("stale_revision")]

    for agency, group in sorted(by_agency.items()):
        rows.append(
            f"| {agency} | {len(group)} | {cell([s.dedicated for s in group])} | {cell(same_revision(group))} | "
            f"{cell([s.generic for s in group])} | {cell([s.trafilatura for s in group])} |"
        )
    rows.append(
        f"| **all real pages** | {len(scores)} | {cell([s.dedicated for s in scores])} | "
        f"{cell(same_revision(scores))} | {cell([s.generic for s in scores])} | "
        f"{cell([s.trafilatura for s in scores])} |"
    )
    return "\n".join(rows)


def main(argv: Sequence[str] = ()) -> int:
    scores = list(score_pages(real_pages()))
    if "--pages" in argv:
        for s in scores:
            dedicated = f"{s.dedicated.f1:.3f}" if s.dedicated else "  -  "
            print(f"{s.page.agency:10} {dedicated} {s.generic.f1:.3f} {s.trafilatura.f1:.3f}  {s.page.name}")
    print(table(scores))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
