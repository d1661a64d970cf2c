"""Is an article about the S-400 dispute at all? A score from the dispute's own vocabulary.

Most of an agency feed is other news (a tulip festival, a gas pipeline, a Syria cease-fire between the
same two governments). The stance labels only mean something inside the dispute, so every article gets a
`topic_score` in [0, 1] and `on_topic` (score >= threshold); the paragraphs of an off-topic article are
`none`. The vocabulary is a short, readable list rather than a learnt model: the labelled data holds no
off-topic articles to learn from, and the terms of the dispute (S-400, F-35, CAATSA ...) are stable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from wirestance.classifiers.actors import normalize
from wirestance.classifiers.word_gate import top_level_alternatives

# (pattern, weight, needed): one mention of the system itself settles it; related terms need company.
# `needed` are substrings of which every match of the pattern holds one: when the text holds none of them
# the pattern is not run (most articles name few of these terms; a scan of a whole article per term was a
# tenth of labelling time). Scores are the same as running every pattern (tests/classifiers/test_topic_speed.py).
_TERMS: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    (r"s-?400s?\b", 2.0, ("400",)),
    (r"\btriumf\b", 2.0, ("triumf",)),
    (r"\bcaatsa\b", 2.0, ("caatsa",)),
    (r"\bf-?35s?\b", 1.0, ("35",)),
    (r"\brosoboronexport\b", 1.0, ("rosoboronexport",)),
    (r"\bmurted\b", 1.0, ("murted",)),
    # The supplier's offers of more (fighters, a second batch) are part of the dispute (labelling guide).
    (r"\bsu-?(?:35|57)s?\b", 1.0, ("35", "57")),
    (r"\bmilitary[- ]technical cooperation\b", 1.0, ("technical cooperation",)),
    # ("defence procurement agency" is one mention of it: the count is the same without the adjective.)
    (r"\bprocurement (?:body|agency)\b", 1.0, ("procurement ",)),
    (r"\b(?:incirlik|kurecik)\b", 0.5, ("incirlik", "kurecik")),
    (r"\bpatriots?\b", 0.5, ("patriot",)),
    (r"\bair[- ]defen[cs]e\b", 0.5, ("defen",)),
    (r"\bmissile (?:defen[cs]e|system)s?\b", 0.5, ("missile ",)),
    (r"\bsanctions?\b", 0.35, ("sanction",)),
    (r"\bpresidency of defen[cs]e industries\b|\bssb\b", 0.25, ("presidency of defen", "ssb")),
)
_LITERAL = re.compile(r"[a-z0-9 -]+")


def _literal_first(pattern: str) -> str:
    r"""`\bword...` -> `word(?<=\bword)...`: the same matches (the look-behind checks the word boundary the
    pattern opened with), but the regex engine looks for the literal word first, as it does with a pattern
    that opens with one, instead of trying the pattern at every word boundary: 20 times faster on an
    article. Patterns of another shape are kept as they are."""
    opening = _LITERAL.match(pattern, 2)
    if not pattern.startswith(r"\b") or opening is None or len(top_level_alternatives(pattern)) > 1:
        return pattern
    literal = opening.group()
    if pattern[opening.end() : opening.end() + 1] in ("?", "*", "{", "+"):  # its last character is quantified
        literal = literal[:-1]
    if not literal:
        return pattern
    return rf"{literal}(?<=\b{literal}){pattern[2 + len(literal) :]}"


_COMPILED = tuple((re.compile(_literal_first(pattern)), weight, needed) for pattern, weight, needed in _TERMS)
# Repeating one term is not more evidence than saying it a few times.
_MAX_HITS_PER_TERM = 3
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class TopicScore:
    score: float
    on_topic: bool


def topic_score(
    paragraphs: Sequence[str], title: str | None = None, *, threshold: float = DEFAULT_THRESHOLD
) -> TopicScore:
    """1 - exp(-evidence): 0 with no dispute term, 0.86 with one mention of the S-400, near 1 with several."""
    # The same text as normalizing the joined article (features.normalize works within the lines), made of
    # the paragraphs' own forms, which the actor features already computed and cached.
    text = " \n".join([normalize(title or ""), *map(normalize, paragraphs)])
    evidence = sum(
        min(len(pattern.findall(text)), _MAX_HITS_PER_TERM) * weight
        for pattern, weight, needed in _COMPILED
        if any(part in text for part in needed)
    )
    score = 1.0 - math.exp(-evidence)
    return TopicScore(score, score >= threshold)
