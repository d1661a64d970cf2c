"""Article identity within a run: two different pages claiming one (source, article_id) are never merged.

One is kept (the page at its own canonical URL, else the newest, else the smaller URL), the other is a
failure "duplicate of <kept URL>". `Resources.kept_pages` carries what was kept across a run's batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from wirestance.articles import Article
from wirestance.failures import Failure
from wirestance.urls import url_key


@dataclass(frozen=True, slots=True)
class PageClaim:
    """A page's claim to be an article: its URL and its rank (what `one_page_per_article` compares)."""

    url: str
    rank: tuple[bool, datetime, str]

    @classmethod
    def of(cls, article: Article) -> PageClaim:
        """The page at its own canonical URL first, then the newest (update, else publication) time, then
        the smaller URL, so the choice never depends on the order pages were met in."""
        at_canonical = _url_path(article.url) == _url_path(article.canonical_url)
        newest = article.updated or article.published
        # max() picks the winner: rank on the URL's code points inverted, so the smaller URL ranks higher.
        return cls(article.url, (at_canonical, newest, "".join(chr(0x10FFFF - ord(c)) for c in article.url[:200])))


def _url_path(url: str) -> str:
    """The path a URL names once normalised: a mirror or the loopback replay serves the site's paths on
    another host, so the host does not take part."""
    try:
        return urlsplit(url_key(url)).path
    except ValueError:
        return url


def one_page_per_article(
    parsed: Sequence[tuple[Article, datetime]], kept: dict[tuple[str, str], PageClaim] | None = None
) -> tuple[list[tuple[Article, datetime]], list[Failure]]:
    """One page per (source, article_id): two different pages claiming the same identity are never merged.

    The winner is picked by `PageClaim.rank`; the other page is a failure "duplicate of <winner>". `kept`
    holds the pages kept by earlier batches of the run (`Resources.kept_pages`, updated in place): a later
    page only replaces one (the lake's upsert then replaces it whole) if it ranks higher, and the earlier one
    is then recorded as the duplicate.
    """
    kept = {} if kept is None else kept
    chosen: dict[tuple[str, str], tuple[Article, datetime]] = {}
    failures: list[Failure] = []

    def duplicate(loser: str, winner: str, article: Article) -> None:
        reason = (
            f"{loser}: duplicate of {winner} (both are {article.source} article {article.article_id}; "
            "kept: the page at its canonical URL, else the newest)"
        )
        failures.append(Failure(loser, article.source, "identity", reason))

    for article, fetched_at in parsed:
        key = (article.source, article.article_id)
        claim = PageClaim.of(article)
        rival = PageClaim.of(chosen[key][0]) if key in chosen else kept.get(key)
        if rival is not None and rival.url != article.url:
            if claim.rank <= rival.rank:
                duplicate(article.url, rival.url, article)
                continue
            duplicate(rival.url, article.url, article)
            chosen.pop(key, None)
        chosen[key] = (article, fetched_at)
        kept[key] = claim
    return list(chosen.values()), failures
