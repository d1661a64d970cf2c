"""Near-copy detection: is a text, or a light rewording of it, among a set of reference texts?

The yardstick (../shared/stance-dev/) must never leak into training data, not even as a copy with a word
changed. Texts are compared by their sets of character 5-grams (lower-case, whitespace collapsed): a
Jaccard similarity at or above NEAR_COPY_JACCARD marks a near copy. Two independently written paragraphs
about the same fact share far fewer 5-grams (measured on data/labeled against the dev set: the highest
pair is well below the threshold).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SHINGLE_CHARS = 5
NEAR_COPY_JACCARD = 0.5
_SPACE = re.compile(r"\s+")


def shingles(text: str) -> frozenset[str]:
    plain = _SPACE.sub(" ", text.lower()).strip()
    if len(plain) <= SHINGLE_CHARS:
        return frozenset([plain]) if plain else frozenset()
    return frozenset(plain[i : i + SHINGLE_CHARS] for i in range(len(plain) - SHINGLE_CHARS + 1))


@dataclass(frozen=True)
class NearCopy:
    #: Position of the text checked and of the reference it resembles.
    text_index: int
    reference_index: int
    jaccard: float


class NearCopyIndex:
    """Reference texts indexed by shingle, so a check touches only references sharing shingles."""

    def __init__(self, references: Sequence[str]) -> None:
        self._sets = [shingles(text) for text in references]
        self._postings: dict[str, list[int]] = defaultdict(list)
        for index, shingle_set in enumerate(self._sets):
            for shingle in shingle_set:
                self._postings[shingle].append(index)

    def best_match(self, text: str) -> tuple[int, float] | None:
        """(reference index, Jaccard) of the most similar reference, None when none shares a shingle."""
        mine = shingles(text)
        if not mine:
            return None
        shared: dict[int, int] = defaultdict(int)
        for shingle in mine:
            for index in self._postings.get(shingle, ()):
                shared[index] += 1
        if not shared:
            return None
        best_index, best_score = -1, -1.0
        for index, count in shared.items():
            score = count / (len(mine) + len(self._sets[index]) - count)
            if score > best_score:
                best_index, best_score = index, score
        return best_index, best_score

    def near_copies(self, texts: Iterable[str], threshold: float = NEAR_COPY_JACCARD) -> list[NearCopy]:
        found = []
        for position, text in enumerate(texts):
            match = self.best_match(text)
            if match is not None and match[1] >= threshold:
                found.append(NearCopy(position, match[0], match[1]))
        return found
