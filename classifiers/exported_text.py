"""A fitted tf-idf text block as plain data, and its transform without scikit-learn.

What prediction reads of a fitted `TfidfVectorizer` (exported.py exports the whole model): its analyzer
("word" or "char_wb"), n-gram range, lower-casing and accent stripping, token pattern, vocabulary, idf
weights, sublinear tf and norm. The transform follows the vectorizer's documented steps: lower-case, then
strip accents (NFKD, combining characters dropped); "word": the token pattern's matches and their n-grams
joined by single spaces; "char_wb": the character n-grams of each whitespace-separated word padded with one
space on each side (a padded word shorter than n gives itself once); counts of the vocabulary's terms, then
1 + log(tf) when sublinear, times idf, rows scaled to unit norm. tests/classifiers/test_exported.py checks
the matrices against the vectorizer's own on hostile text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from wirestance.classifiers.fast_ngrams import CharWordCounter
from wirestance.classifiers.fast_words import WordPieceCounter, counts_piecewise

ANALYZERS = ("word", "char_wb")


class ExportError(ValueError):
    """A fitted model (or a part of it) that the export does not cover; it stays usable through joblib."""


@dataclass
class TextBlock:
    analyzer: str
    ngram_range: tuple[int, int]
    lowercase: bool
    strip_accents: str | None
    token_pattern: str
    sublinear_tf: bool
    norm: str | None
    #: The vocabulary's terms in column order.
    terms: list[str]
    #: idf weight per column; None: no idf weighting.
    idf: NDArray[np.float64] | None
    _vocabulary: dict[str, int] = field(init=False, repr=False)
    _char_counter: CharWordCounter | None = field(init=False, default=None, repr=False)
    _word_counter: WordPieceCounter | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        if self.analyzer not in ANALYZERS:
            raise ExportError(f"analyzer {self.analyzer!r} is not exported (only {', '.join(ANALYZERS)})")
        if self.strip_accents not in (None, "unicode"):
            raise ExportError(f"strip_accents={self.strip_accents!r} is not exported")
        if self.norm not in (None, "l2"):
            raise ExportError(f"norm={self.norm!r} is not exported")
        low, high = self.ngram_range
        if not 1 <= low <= high:
            raise ExportError(f"ngram_range {self.ngram_range} is not a range of n-gram lengths")
        if self.analyzer == "word" and re.compile(self.token_pattern).groups:
            raise ExportError(f"token pattern {self.token_pattern!r} has groups; findall would return them")
        if self.idf is not None and len(self.idf) != len(self.terms):
            raise ExportError(f"{len(self.idf)} idf weights for {len(self.terms)} terms")
        self._vocabulary = {term: column for column, term in enumerate(self.terms)}
        if len(self._vocabulary) != len(self.terms):
            raise ExportError("the vocabulary holds a term twice")
        self._token_re = re.compile(self.token_pattern)

    @property
    def width(self) -> int:
        return len(self.terms)

    @classmethod
    def from_vectorizer(cls, vectorizer: Any) -> TextBlock:
        """The block of a fitted scikit-learn TfidfVectorizer, refused (ExportError) where it does more than
        the export computes (custom callables, stop words, binary counts, another dtype or input)."""
        if type(vectorizer).__name__ != "TfidfVectorizer" or not hasattr(vectorizer, "vocabulary_"):
            raise ExportError(f"{type(vectorizer).__name__} is not a fitted TfidfVectorizer")
        unsupported = {
            "input": vectorizer.input != "content",
            "preprocessor": vectorizer.preprocessor is not None,
            "tokenizer": vectorizer.tokenizer is not None,
            "stop_words": vectorizer.stop_words is not None,
            "binary": bool(vectorizer.binary),
            "dtype": np.dtype(vectorizer.dtype) != np.float64,
            "callable analyzer": callable(vectorizer.analyzer),
        }
        refused = [name for name, flag in unsupported.items() if flag]
        if refused:
            raise ExportError(f"TfidfVectorizer with {', '.join(refused)} is not exported")
        terms = [""] * len(vectorizer.vocabulary_)
        for term, column in vectorizer.vocabulary_.items():
            terms[column] = term
        idf = np.asarray(vectorizer.idf_, dtype=np.float64) if vectorizer.use_idf else None
        return cls(
            analyzer=vectorizer.analyzer,
            ngram_range=(int(vectorizer.ngram_range[0]), int(vectorizer.ngram_range[1])),
            lowercase=bool(vectorizer.lowercase),
            strip_accents=vectorizer.strip_accents,
            token_pattern=vectorizer.token_pattern,
            sublinear_tf=bool(vectorizer.sublinear_tf),
            norm=vectorizer.norm,
            terms=terms,
            idf=idf,
        )

    def settings(self) -> dict[str, Any]:
        """The block's settings as JSON data (terms and idf are stored as arrays)."""
        return {
            "analyzer": self.analyzer,
            "ngram_range": list(self.ngram_range),
            "lowercase": self.lowercase,
            "strip_accents": self.strip_accents,
            "token_pattern": self.token_pattern,
            "sublinear_tf": self.sublinear_tf,
            "norm": self.norm,
        }

    # --- the transform ---

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """(len(texts) x width) tf-idf rows, as the fitted vectorizer's transform gives them."""
        counts = self._char_counts(texts) if self.analyzer == "char_wb" else self._word_counts(texts)
        matrix = sp.csr_matrix(counts, dtype=np.float64)
        matrix.sort_indices()
        if self.sublinear_tf:
            np.log(matrix.data, matrix.data)
            matrix.data += 1.0
        if self.idf is not None:
            matrix.data *= self.idf[matrix.indices]
        if self.norm == "l2":
            per_row = np.diff(matrix.indptr)
            rows = np.repeat(np.arange(matrix.shape[0]), per_row)
            lengths = np.sqrt(np.bincount(rows, weights=matrix.data**2, minlength=matrix.shape[0]))
            lengths[lengths == 0] = 1.0  # an empty row stays empty
            matrix.data /= np.repeat(lengths, per_row)
        return matrix

    def preprocess(self, text: str) -> str:
        if self.lowercase:
            text = text.lower()
        if self.strip_accents == "unicode" and not text.isascii():
            text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        return text

    def _word_counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        if counts_piecewise(self.token_pattern, self.ngram_range):
            if self._word_counter is None:
                self._word_counter = WordPieceCounter(
                    self._vocabulary, self.token_pattern, self.ngram_range, self.preprocess
                )
            return self._word_counter.counts(texts)
        return self._word_counts_by_text(texts)

    def _word_counts_by_text(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The counts text by text (any token pattern and n-gram range)."""
        vocabulary = self._vocabulary
        low, high = self.ngram_range
        indices: list[int] = []
        indptr = [0]
        values: list[int] = []
        for text in texts:
            tokens = self._token_re.findall(self.preprocess(text))
            counted: dict[int, int] = {}
            for term in _word_ngrams(tokens, low, high):
                column = vocabulary.get(term)
                if column is not None:
                    counted[column] = counted.get(column, 0) + 1
            indices.extend(counted)
            values.extend(counted.values())
            indptr.append(len(indices))
        return sp.csr_matrix(
            (np.asarray(values, dtype=np.float64), np.asarray(indices, dtype=np.int32), np.asarray(indptr)),
            shape=(len(texts), self.width),
        )

    def _char_counts(self, texts: Sequence[str]) -> Any:
        if self._char_counter is None:
            low, high = self.ngram_range
            ngrams: Callable[[str], list[str]] = lambda word: char_wb_ngrams(word, low, high)  # noqa: E731
            self._char_counter = CharWordCounter(self._vocabulary, np.float64, self.preprocess, ngrams)
        return self._char_counter.counts(list(texts))


def _word_ngrams(tokens: list[str], low: int, high: int) -> list[str]:
    """The n-grams (low <= n <= high) of a token list, each joined by single spaces."""
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), high + 1):
        grams.extend(" ".join(tokens[start : start + n]) for start in range(len(tokens) - n + 1))
    return grams


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """The character n-grams (low <= n <= high) of each whitespace-separated word of `text`, padded with a
    space on each side; a padded word of at most n characters gives itself once, and no longer n-grams."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            if size <= n:
                grams.append(padded)
                break
            grams.extend(padded[start : start + n] for start in range(size - n + 1))
    return grams
