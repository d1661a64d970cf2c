"""Deterministic synthetic AA pages for benchmarks and parser fuzzing.

Text is composed from a bank of invented sentence fragments, so paragraphs vary in length and wording
without copying any published article. The same (n, seed) always gives the same pages.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from wirestance.parsing import ISTANBUL
from wirestance.samples.render import ORIGIN, Layout, render_article

_SUBJECTS = (
    "The Turkish Foreign Ministry",
    "Defense Minister Hulusi Akar",
    "The Kremlin spokesman",
    "A senior Pentagon official",
    "Rosoboronexport's chief executive",
    "The State Department spokesperson",
    "NATO Secretary General Jens Stoltenberg",
    "A group of US senators",
    "Turkey's defense procurement agency",
    "Russia's Federal Service for Military-Technical Cooperation",
    "The city council",
    "Local farmers",
    "The central bank",
    "Officials in Ankara",
)
_VERBS = (
    "said on Monday",
    "told reporters on Tuesday",
    "stressed in a written statement",
    "noted during a press conference",
    "argued in an interview",
    "announced late on Thursday",
    "reiterated on Friday",
    "warned in a letter",
)
_CLAUSES = (
    "that the air defense deal had been concluded and would not be reversed",
    "that deliveries of the system were proceeding according to the agreed schedule",
    "that the system could not be integrated into the alliance's shared air defense network",
    "that the purchase remained a sovereign decision of an independent country",
    "that sanctions under the CAATSA law would be considered if activation went ahead",
    "that a joint technical working group could settle the remaining questions",
    "that talks on a second batch with partial local production were continuing",
    "that the fighter jet program would go on without the participation of its former partner",
    "that harvest figures in the region were higher than in the previous year",
    "that new ferry routes would open across the Bosphorus in the spring",
    "that interest rates would stay unchanged for the rest of the quarter",
    "that restoration work on the historic bridge would be finished by the summer",
)
_TAILS = (
    "according to a statement released afterwards",
    "adding that further meetings were planned",
    "without giving a timeline",
    "citing officials familiar with the talks",
    "in remarks carried by the state broadcaster",
    "as lawmakers debated the annual defense bill",
)
_BACKGROUND = (
    "The contract for the S-400 was signed in 2017 after years of talks on other systems.",
    "Washington has long said the Russian system poses a risk to the F-35 stealth jet.",
    "Ankara has repeatedly offered to set up a commission to examine technical concerns.",
    "Moscow has described its military-technical cooperation with Ankara as lawful.",
    "The S-400 is a long-range surface-to-air missile system made by Almaz-Antey.",
    "The first components of the system were delivered to an air base near Ankara in July 2019.",
    "The weather service expects rain in coastal areas over the weekend.",
    "Tourism revenue rose sharply in the first half of the year, official data showed.",
)
_TITLE_TOPICS = (
    "S-400 deliveries",
    "F-35 program",
    "air defense talks",
    "CAATSA sanctions",
    "Patriot offer",
    "second S-400 batch",
    "harvest season",
    "ferry timetable",
)
_TITLE_FRAMES = (
    "{who} comments on {topic}",
    "{who} says no change on {topic}",
    "Talks continue over {topic}, says {who}",
    "{who} issues statement on {topic}",
    "New details emerge on {topic}",
)
_TITLE_WHO = ("Ankara", "Moscow", "Washington", "NATO", "Pentagon", "Kremlin", "Turkish minister")
_AUTHORS = ("Murat Kaya", "Selin Demir", "Emre Aksoy", "Leyla Arslan", "Kerem Polat", "Nadia Ivanova")
_DATELINES = ("ANKARA", "MOSCOW", "WASHINGTON", "ISTANBUL", "BRUSSELS", "LONDON")
_CATEGORIES = (("politics", "Politics"), ("world", "World"), ("turkiye", "Türkiye"))
_TAGS = ("S-400", "F-35", "CAATSA", "NATO", "Russia", "Türkiye", "US", "Patriot")
_SUBHEADS = ("Background of the dispute", "Reactions from Washington", "Next steps", "What officials said")

_FIRST_SYNTHETIC_ID = 5_000_000


def _counted(fragments: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    return tuple((text, len(text.split())) for text in fragments)


# Word counts computed once: the benchmark composes millions of sentences.
_SUBJECTS_N = _counted(_SUBJECTS)
_VERBS_N = _counted(_VERBS)
_CLAUSES_N = _counted(_CLAUSES)
_TAILS_N = _counted(_TAILS)
_BACKGROUND_N = _counted(_BACKGROUND)


def _sentence(rng: random.Random) -> tuple[str, int]:
    """A sentence and its word count."""
    if rng.random() < 0.25:
        return rng.choice(_BACKGROUND_N)
    (subject, a), (verb, b), (clause, c) = rng.choice(_SUBJECTS_N), rng.choice(_VERBS_N), rng.choice(_CLAUSES_N)
    if rng.random() < 0.5:
        tail, d = rng.choice(_TAILS_N)
        return f"{subject} {verb} {clause}, {tail}.", a + b + c + d
    return f"{subject} {verb} {clause}.", a + b + c


def _paragraph(rng: random.Random) -> str:
    """15 to 90 words of whole sentences."""
    target = rng.randint(15, 90)
    sentences: list[str] = []
    words = 0
    while words < target:
        sentence, length = _sentence(rng)
        if words and words + length > 90:
            break
        sentences.append(sentence)
        words += length
    while words < 15:  # one short background sentence can leave a paragraph under the floor
        sentence, length = rng.choice(_BACKGROUND_N)
        sentences.append(sentence)
        words += length
    return " ".join(sentences)


def _slug(title: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in title.lower()).split())


def _moments(rng: random.Random, layout: Layout) -> tuple[datetime, datetime | None]:
    if layout == "legacy":
        # The legacy template prints dates without a time: midnight in Istanbul.
        day = datetime(2017, 1, 1, tzinfo=ISTANBUL) + timedelta(days=rng.randrange(5 * 365))
        updated = day + timedelta(days=rng.randint(1, 3)) if rng.random() < 0.3 else None
        return day, updated
    start = datetime(2026, 1, 1, tzinfo=ISTANBUL)
    published = start + timedelta(seconds=rng.randrange(180 * 86400), milliseconds=rng.randrange(1000))
    updated = published + timedelta(minutes=rng.randint(2, 600)) if rng.random() < 0.5 else None
    return published, updated


def synthetic_spec(rng: random.Random, number: int, layout: Layout) -> dict[str, Any]:
    """One invented article spec (same keys as articles.json) in the given layout."""
    title = rng.choice(_TITLE_FRAMES).format(who=rng.choice(_TITLE_WHO), topic=rng.choice(_TITLE_TOPICS))
    slug, category = rng.choice(_CATEGORIES)
    article_id = str(_FIRST_SYNTHETIC_ID + number)
    published, updated = _moments(rng, layout)
    paragraphs = [_paragraph(rng) for _ in range(rng.randint(4, 25))]
    spec: dict[str, Any] = {
        "id": article_id,
        "url": f"{ORIGIN}/en/{slug}/{_slug(title)}/{article_id}",
        "category": category,
        "layout": layout,
        "title": title,
        "lede": _sentence(rng)[0],
        "authors": rng.sample(_AUTHORS, rng.choice((0, 1, 1, 1, 2))),
        "published": published.isoformat(timespec="milliseconds" if layout == "nextjs" else "seconds"),
        "updated": None
        if updated is None
        else updated.isoformat(timespec="milliseconds" if layout == "nextjs" else "seconds"),
        "dateline": rng.choice(_DATELINES),
        "tags": rng.sample(_TAGS, rng.choice((0, 0, 2, 3))),
        "paragraphs": paragraphs,
    }
    if len(paragraphs) >= 6 and rng.random() < 0.4:
        spec["subheadings"] = {str(rng.randrange(2, len(paragraphs))): rng.choice(_SUBHEADS)}
    return spec


def synthetic_pages(n: int, seed: int = 0) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(url, html, spec) for `n` invented articles, both layouts mixed, deterministic for a seed."""
    rng = random.Random(seed)
    for number in range(n):
        layout: Layout = "legacy" if rng.random() < 0.5 else "nextjs"
        spec = synthetic_spec(rng, number, layout)
        yield spec["url"], render_article(spec, layout), spec
