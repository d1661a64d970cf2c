"""Patterns of many alternatives, tried only at the words that can start one of their matches.

The actor features scan each paragraph with a dozen alternations ("said|says|told|...", the actors of each
side). Python's regex engine tries every alternative, one by one, at every position whose letter one of
them starts with: most of the features' time. But every match of such a pattern starts at the start of a
word (a run of word characters) that begins with one of the alternatives' literal beginnings ("said",
"emphasi" of "emphasi[sz]ed", "russia" of "russia's"). A paragraph has a few dozen distinct words; which
patterns each word can start is worked out once per word (and cached), and each pattern is tried only at
the starts of those words. The matches are the same as a scan's, in the same order: a scan tries every
position, and each position skipped here is one where no match can start.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

#: A run of word characters: the unit a match starts at (`\b` followed by a word character).
_WORD_RUN = re.compile(r"\w+")
_GROUP_OPENING = re.compile(r"\(\?(?::|P<\w+>)")
_QUANTIFIERS = ("?", "*", "{")
# A long-lived worker sees a bounded news vocabulary; the cap only keeps hostile input from growing it.
_CACHE_LIMIT = 200_000


def top_level_alternatives(pattern: str) -> list[str]:
    """`a|b(?:c|d)|e` -> [a, b(?:c|d), e]: the alternatives of a pattern outside groups and classes."""
    parts, depth, in_class, escaped, start = [], 0, False, False, 0
    for position, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:position])
            start = position + 1
    return [*parts, pattern[start:]]


def _closing_parenthesis(pattern: str) -> int:
    """Where the group that opens `pattern` closes."""
    depth, escaped = 0, False
    for position, char in enumerate(pattern):
        if escaped:
            escaped = False
            continue
        escaped = char == "\\"
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return position
    raise ValueError(f"unbalanced group in {pattern!r}")


class Beginnings(NamedTuple):
    """How a match can start. `whole`: words a match can start at only if the word is exactly one of them
    ("said", "in" of "in a statement": a word boundary or a space follows the letters in the pattern);
    `partial`: beginnings of longer words ("senator" of "senators?", "emphasi" of "emphasi[sz]ed")."""

    whole: frozenset[str]
    partial: frozenset[str]

    def __or__(self, other: object) -> Beginnings:
        assert isinstance(other, Beginnings)
        return Beginnings(self.whole | other.whole, self.partial | other.partial)


# What may follow a word's last letter in a pattern where the word must end there: a word boundary, a
# space or any whitespace, or a literal character that is not a word character (not ".": any character).
_WORD_END = re.compile(r"\\[bsW]|[ '\-,:;]")


def literal_beginnings(pattern: str, *, bounded: bool = False, word_ends_after: bool | None = None) -> Beginnings:
    """The letters every match of `pattern` starts with ("senators?|(?:russia|moscow)'s" -> senator (a
    partial word), russia, moscow (whole words)).

    Only the shapes used here are accepted: alternatives that start with lower-case letters or with a
    group of such alternatives (optional or not); escapes and brackets inside a group are only skipped, so
    a group must not hold a `(` in a class. `bounded`: each top-level alternative opens with `\\b`, which
    is skipped. `word_ends_after`: a word boundary follows the pattern (as `words_pattern` puts one; by
    default so unless `bounded`). Anything else is refused (ValueError): no beginning could be vouched for."""
    if word_ends_after is None:
        word_ends_after = not bounded
    found = Beginnings(frozenset(), frozenset())
    for alternative in top_level_alternatives(pattern):
        if bounded:
            if not alternative.startswith(r"\b"):
                raise ValueError(f"{alternative!r} does not open with a word boundary")
            alternative = alternative[2:]
        group_opening = _GROUP_OPENING.match(alternative)
        if group_opening:
            end = _closing_parenthesis(alternative)
            quantifier = alternative[end + 1 : end + 2]
            if quantifier == "{":
                raise ValueError(f"a counted group opens {alternative!r}")
            optional = quantifier in ("?", "*")
            after = alternative[end + 2 :] if optional else alternative[end + 1 :]
            if optional:  # what follows the group can start a match too
                found |= literal_beginnings(after, word_ends_after=word_ends_after)
            ends = _WORD_END.match(after) is not None or (after == "" and word_ends_after)
            found |= literal_beginnings(alternative[group_opening.end() : end], word_ends_after=ends)
            continue
        length = 0
        while length < len(alternative) and alternative[length].isascii() and alternative[length].islower():
            length += 1
        after = alternative[length:]
        if after[:1] in _QUANTIFIERS:  # "senators?": the last letter may be absent
            length -= 1
        if length <= 0:
            raise ValueError(f"cannot tell what {alternative!r} starts with")
        if _WORD_END.match(after) or (after == "" and word_ends_after):
            found |= Beginnings(frozenset([alternative[:length]]), frozenset())
        else:
            found |= Beginnings(frozenset(), frozenset([alternative[:length]]))
    return found


def words_pattern(pattern: str) -> str:
    r"""`\b(?:pattern)\b`, with a look-ahead for the letters its matches start with: the same matches, but
    the regex engine turns away most word boundaries (every word's end, most words' starts) before trying
    dozens of alternatives there."""
    beginnings = literal_beginnings(pattern)
    letters = "".join(sorted({beginning[0] for beginning in beginnings.whole | beginnings.partial}))
    return rf"\b(?=[{letters}])(?:{pattern})\b"


class GatedPattern:
    """A compiled pattern and the beginnings of its matches (`literal_beginnings`).

    `words(alternation)` is `\\b(?:alternation)\\b` (as `words_pattern`); `bounded(pattern)` a pattern each
    of whose top-level alternatives opens with `\\b`. Either way every match starts at a word's start."""

    __slots__ = ("partial", "pattern", "whole")

    def __init__(self, pattern: re.Pattern[str], beginnings: Beginnings) -> None:
        self.pattern = pattern
        self.whole = beginnings.whole
        self.partial = tuple(sorted(beginnings.partial))

    def can_start_at(self, word: str) -> bool:
        """Whether a match can start at a word (a whole run of word characters) that is `word`."""
        return word in self.whole or word.startswith(self.partial)

    @classmethod
    def words(cls, alternation: str) -> GatedPattern:
        return cls(re.compile(words_pattern(alternation)), literal_beginnings(alternation))

    @classmethod
    def bounded(cls, pattern: str) -> GatedPattern:
        return cls(re.compile(pattern), literal_beginnings(pattern, bounded=True))


class WordGate:
    """Named gated patterns; `scan(text)` finds, for each, the starts of the words it could match at."""

    def __init__(self, patterns: Mapping[str, GatedPattern]) -> None:
        self.patterns = dict(patterns)
        self._names_of_word: dict[str, tuple[str, ...]] = {}
        self._whole_words: dict[str, re.Pattern[str]] = {}

    def _names_starting(self, word: str) -> tuple[str, ...]:
        if len(self._names_of_word) >= _CACHE_LIMIT:
            self._names_of_word.clear()
        names = tuple(name for name, gated in self.patterns.items() if gated.can_start_at(word))
        self._names_of_word[word] = names
        return names

    def whole_word(self, word: str) -> re.Pattern[str]:
        r"""`word` as a whole run of word characters: `word(?<=\bword)\b` (the word boundaries checked
        after the literal, so that the regex engine searches for the literal: `\bword\b` is tried at
        every position and is ten times slower)."""
        pattern = self._whole_words.get(word)
        if pattern is None:
            if len(self._whole_words) >= _CACHE_LIMIT:
                self._whole_words.clear()
            literal = re.escape(word)
            pattern = self._whole_words[word] = re.compile(rf"{literal}(?<=\b{literal})\b")
        return pattern

    def scan(self, text: str) -> GateScan:
        words_of: dict[str, list[str]] = {}
        names_of_word = self._names_of_word
        for word in set(_WORD_RUN.findall(text)):
            names = names_of_word.get(word)
            if names is None:
                names = self._names_starting(word)
            for name in names:
                words_of.setdefault(name, []).append(word)
        return GateScan(self, text, words_of)


class GateScan:
    """One text's candidate words per pattern; `finditer`/`search` as the pattern's own, on that text."""

    __slots__ = ("_gate", "_starts_of_word", "_text", "_words_of")

    def __init__(self, gate: WordGate, text: str, words_of: dict[str, list[str]]) -> None:
        self._gate = gate
        self._text = text
        self._words_of = words_of
        self._starts_of_word: dict[str, list[int]] = {}

    def could_match(self, name: str) -> bool:
        return name in self._words_of

    def _word_starts(self, word: str) -> list[int]:
        """Where a run of word characters that is exactly `word` starts in the text."""
        starts = self._starts_of_word.get(word)
        if starts is None:
            starts = [match.start() for match in self._gate.whole_word(word).finditer(self._text)]
            self._starts_of_word[word] = starts
        return starts

    def _candidates(self, name: str) -> list[int]:
        words = self._words_of.get(name)
        if not words:
            return []
        if len(words) == 1:
            return self._word_starts(words[0])
        return sorted(start for word in words for start in self._word_starts(word))

    def finditer(self, name: str) -> list[re.Match[str]]:
        """The matches `pattern.finditer(text)` yields: non-overlapping, leftmost first."""
        pattern, found, resume = self._gate.patterns[name].pattern, [], 0
        for start in self._candidates(name):
            if start < resume:
                continue
            match = pattern.match(self._text, start)  # `\b` still sees the character before `start`
            if match:
                found.append(match)
                resume = match.end()
        return found

    def search(self, name: str) -> re.Match[str] | None:
        pattern = self._gate.patterns[name].pattern
        for start in self._candidates(name):
            match = pattern.match(self._text, start)
            if match:
                return match
        return None
