"""A fitted `char_wb` TfidfVectorizer's transform, computed word by word: the same matrix, several times faster.

scikit-learn's `char_wb` analyzer lower-cases and strips accents from a document, splits it on whitespace
and takes the padded character n-grams of each word on its own. So a document's n-gram counts are the sum,
over its words, of each word's counts: counts = W @ M, with W the (documents x distinct words) word counts
(a `str.split` and a dict per document, at C speed) and M the (words x vocabulary) n-gram counts of each
word, computed once per word and cached (word frequencies are Zipfian: a batch of news paragraphs brings few
new words). The fitted vectorizer's own tf-idf step (sublinear tf, idf, l2 norm) then turns the counts into
the matrix `vectorizer.transform` returns, bit for bit (tests/classifiers/test_feature_speedups.py).

Words are the pieces of the *raw* text split on whitespace, each preprocessed on its own. That is exact
because the preprocessing works character by character and keeps whitespace whitespace: lower-casing maps
no character to or from whitespace (and Greek final sigma looks at cased neighbours, which whitespace never
is), NFKD decomposes each character on its own (a whitespace character is a starter, so no reordering
crosses it), and dropping combining marks never drops whitespace. A piece that preprocessing splits
further ("a¨b": the diaeresis decomposes to a space and a combining mark) is split again after it.

The pickled model is unchanged: the fast path reads a fitted scikit-learn TfidfVectorizer, so models
already in a registry get faster too. Vectorizers it does not cover (another analyzer, a custom
preprocessor, binary counts, bytes or non-text input) go through their own `transform`.
"""

from __future__ import annotations

import array
import weakref
from collections.abc import Callable, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:  # imported when a fitted vectorizer is given: the exported model counts without scikit-learn
    from sklearn.feature_extraction.text import TfidfVectorizer

#: Distinct raw words kept per vectorizer (about 100 bytes each): a labelling batch of news paragraphs
#: uses a few thousand, so the cache is cleared rarely and rebuilt from the frequent words at once.
WORD_CACHE_SIZE = 100_000
_SUPPORTED_ACCENTS = (None, False, "unicode")
_INT32_LIMIT = np.iinfo(np.int32).max


def is_fast_char_vectorizer(transformer: Any) -> bool:
    """True when `transformer` is a fitted TfidfVectorizer whose transform `transform_texts` computes by words."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return (
        isinstance(transformer, TfidfVectorizer)
        and transformer.analyzer == "char_wb"
        and transformer.input == "content"
        and transformer.preprocessor is None
        and transformer.strip_accents in _SUPPORTED_ACCENTS
        and not transformer.binary
        and hasattr(transformer, "vocabulary_")
        and hasattr(transformer, "_tfidf")
    )


def transform_texts(transformer: Any, texts: Sequence[str]) -> Any:
    """`transformer.transform(texts)`, by the word-composition path when it applies."""
    if not isinstance(texts, str | bytes) and is_fast_char_vectorizer(transformer):
        batch = list(texts)
        if all(type(text) is str for text in batch):
            counts = _counter_for(transformer).counts(batch)
            return transformer._tfidf.transform(counts, copy=False)
        return transformer.transform(batch)
    return transformer.transform(texts)


class CharWordCounter:
    """n-gram counts of a char_wb vocabulary, composed from cached per-word counts.

    `preprocess` maps a raw text to the text n-grams are taken from (lower-casing, accents); `word_ngrams`
    gives the padded n-grams of a text of one or more whitespace-separated words, as the analyzer does.
    `for_vectorizer` takes both from a fitted scikit-learn vectorizer."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        dtype: Any,
        preprocess: Callable[[str], str],
        word_ngrams: Callable[[str], list[str]],
        cache_size: int = WORD_CACHE_SIZE,
    ) -> None:
        self.vocabulary = vocabulary
        self.dtype = dtype
        self._preprocess = preprocess
        self._word_ngrams = word_ngrams
        self._cache_size = cache_size
        #: raw word -> the vocabulary columns of its n-grams, one entry per occurrence, as int32 bytes.
        self._rows: dict[str, bytes] = {}

    @classmethod
    def for_vectorizer(cls, vectorizer: TfidfVectorizer, cache_size: int = WORD_CACHE_SIZE) -> CharWordCounter:
        """The counter of a fitted char_wb vectorizer, with its own preprocessor and n-gram generator."""
        return cls(
            vectorizer.vocabulary_,
            vectorizer.dtype,
            vectorizer.build_preprocessor(),
            vectorizer._char_wb_ngrams,
            cache_size,
        )

    def counts(self, texts: Sequence[str]) -> sp.csr_array:
        """(len(texts) x vocabulary) n-gram counts, in the layout CountVectorizer.transform gives them."""
        words_per_text = [text.split() for text in texts]
        every_word = list(chain.from_iterable(words_per_text))
        column_of = {word: column for column, word in enumerate(dict.fromkeys(every_word))}
        rows = [self._row(word) for word in column_of]
        index = np.int32 if max(len(every_word), len(self.vocabulary)) < _INT32_LIMIT else np.int64
        words = sp.csr_array(
            (
                np.ones(len(every_word)),
                np.fromiter(map(column_of.__getitem__, every_word), index, len(every_word)),
                np.cumsum([0, *map(len, words_per_text)], dtype=np.int64).astype(index),
            ),
            shape=(len(texts), len(column_of)),
        )
        grams = np.frombuffer(b"".join(rows), dtype=np.int32).astype(index)  # a writable copy
        ngrams = sp.csr_array(
            (
                np.ones(len(grams)),
                grams,
                np.cumsum([0, *(len(row) // 4 for row in rows)], dtype=np.int64).astype(index),
            ),
            shape=(len(column_of), len(self.vocabulary)),
        )
        # counts = words @ ngrams, computed transposed: a product leaves each row's columns unsorted, and
        # the CSC -> CSR conversion at the end sorts them in one linear pass (half the cost of sorting).
        counts_by_column = ngrams.T.tocsr() @ words.T.tocsr()
        counts = sp.csr_array(counts_by_column.T.tocsr(), dtype=self.dtype)
        counts.sum_duplicates()  # already canonical; makes sure of it, as CountVectorizer leaves it
        # CountVectorizer's index arrays are int32 unless the matrix needs more.
        if counts.nnz < _INT32_LIMIT:
            counts.indices = counts.indices.astype(np.int32, copy=False)
            counts.indptr = counts.indptr.astype(np.int32, copy=False)
        return counts

    def _row(self, raw_word: str) -> bytes:
        row = self._rows.get(raw_word)
        if row is None:
            if len(self._rows) >= self._cache_size:
                self._rows.clear()
            row = self._rows[raw_word] = self._compute_row(raw_word)
        return row

    def _compute_row(self, raw_word: str) -> bytes:
        columns = array.array("i")
        vocabulary = self.vocabulary
        for word in self._preprocess(raw_word).split():
            columns.extend(column for column in map(vocabulary.get, self._word_ngrams(word)) if column is not None)
        return columns.tobytes()


# One counter per fitted vectorizer, dropped with it; rebuilt when the vectorizer is refitted or reconfigured.
_COUNTERS: weakref.WeakKeyDictionary[TfidfVectorizer, tuple[tuple[Any, ...], CharWordCounter]] = (
    weakref.WeakKeyDictionary()
)


def _counter_for(vectorizer: TfidfVectorizer) -> CharWordCounter:
    identity = (
        id(vectorizer.vocabulary_),
        vectorizer.lowercase,
        vectorizer.strip_accents,
        tuple(vectorizer.ngram_range),
        vectorizer.dtype,
    )
    known = _COUNTERS.get(vectorizer)
    if known is None or known[0] != identity:
        known = (identity, CharWordCounter.for_vectorizer(vectorizer))
        _COUNTERS[vectorizer] = known
    return known[1]
