"""What a paragraph's place in its article says about its speaker: features for the second (article) stage.

News copy names a speaker once and then goes on with "He added ...", a bare quotation or "the minister
said" (labelling guide rule 9). The first stage sees one paragraph at a time; these features give the
second stage, for each paragraph, its own first-stage scores, its neighbours' scores, the side of the last
paragraph that named its speaker, how the paragraph opens (pronoun, quotation, title-only reference),
its position, and the actors of the headline and lede.

Everything here is plain numpy on already computed first-stage outputs, so the second stage costs a few
microseconds per paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from wirestance.classifiers.actors import ACTOR_GROUPS, normalize
from wirestance.classifiers.labels import LABELS

N_LABELS = len(LABELS)
# Column layout of ActorAttribution's output (see its get_feature_names_out).
_SPEAKS = slice(0, len(ACTOR_GROUPS))
_SPEAKS_PRONOUN = len(ACTOR_GROUPS)
_NAMED = slice(len(ACTOR_GROUPS) + 1, 2 * len(ACTOR_GROUPS) + 1)
_QUOTE = 2 * len(ACTOR_GROUPS) + 1
#: The columns after `quote` (outsider speaking, opening actor, background and no-position markers); a
#: model trained before they existed has none.
_EXTRA = _QUOTE + 1
#: Speaker sides the "last speaker" memory tracks: the four actor groups and "nobody named yet".
_SPEAKER_SLOTS = len(ACTOR_GROUPS) + 1

# A paragraph that leans on an earlier one for its speaker: a pronoun or a bare office as subject in its
# first words ("He also said", "The minister noted", "The official, who spoke on condition ..."), or a
# quotation as the opener.
_PRONOUN_OPENER = re.compile(
    r"^(?:\W*)(?:(?:and|but|however|meanwhile|also|still|yet),?\s+)?"
    r"(?:he|she|they|his|her|their|him)\b"
)
_OFFICE_OPENER = re.compile(
    r"^(?:\W*)(?:(?:but|however|meanwhile),?\s+)?the\s+(?:\w+\s+){0,2}"
    r"(?:minister|official|spokes\w+|president|diplomat|senator|general|chief|head|ambassador|envoy|"
    r"secretary|aide|lawmaker|agency|ministry|department|company|corporation|exporter|commander|adviser)\b"
)
_QUOTE_OPENER = re.compile(r"^\s*[\"“”«»'‘]")
_ACCORDING_TO_PRONOUN = re.compile(
    r"\baccording to (?:him|her|them|the (?:\w+ ){0,2}(?:minister|official|chief|head))\b"
)
_LATER_PRONOUN_SPEAKER = re.compile(
    # The look-ahead (the letters the pronouns start with) turns most word boundaries away at once.
    r"\b(?=[hst])(?:he|she|they) (?:said|says|added|noted|stressed|told|explained|continued|went on|recalled|"
    r"argued|warned)\b"
)


def context_feature_names(extra_actor_columns: Sequence[str] = ()) -> list[str]:
    """Names of article_context_features' columns; `extra_actor_columns`: ActorAttribution's names after
    `quote` (none for a model trained before they existed)."""
    sides = [*ACTOR_GROUPS, "nobody"]
    names = [f"own:{label}" for label in LABELS]
    names += [f"prev:{label}" for label in LABELS] + [f"next:{label}" for label in LABELS]
    names += ["has_prev", "has_next", "is_first", "is_last", "relative_position"]
    names += [f"own_speaker:{group}" for group in ACTOR_GROUPS]
    names += ["no_own_speaker", "pronoun_opener", "office_opener", "quote_opener", "pronoun_speaker", "quote"]
    names += [f"paragraph:{name}" for name in extra_actor_columns]
    names += [f"last_speaker:{side}" for side in sides]
    names += [f"last_speaker_scores:{label}" for label in LABELS]
    names += [f"dependent_x_last_speaker:{side}" for side in sides]
    names += [f"dependent_x_prev:{label}" for label in LABELS]
    names += [f"dependent_x_last_scores:{label}" for label in LABELS]
    names += [f"lede_named:{group}" for group in ACTOR_GROUPS]
    names += [f"article_mean:{label}" for label in LABELS]
    return names


def opener_flags(text: str) -> tuple[float, float, float, float]:
    """(pronoun opener, office opener, quotation opener, a pronoun is the speaker anywhere)."""
    plain = normalize(text)
    head = plain[:80]
    return (
        1.0
        if _PRONOUN_OPENER.match(head) or ("according to" in plain and _ACCORDING_TO_PRONOUN.search(plain))
        else 0.0,
        1.0 if _OFFICE_OPENER.match(head) else 0.0,
        1.0 if _QUOTE_OPENER.match(text) else 0.0,
        1.0 if _LATER_PRONOUN_SPEAKER.search(plain) else 0.0,
    )


def article_context_features(
    scores: NDArray[np.float64],
    actors: NDArray[np.float64],
    openers: NDArray[np.float64],
    lede_actors: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Second-stage features of one article's paragraphs, in paragraph order.

    scores: (n, 4) first-stage probabilities in LABELS order; actors: (n, 10) ActorAttribution columns;
    openers: (n, 4) from opener_flags; lede_actors: (4,) named actor groups of the headline and lede.
    """
    return articles_context_features(scores, actors, openers, lede_actors[None, :], [scores.shape[0]])


def articles_context_features(
    scores: NDArray[np.float64],
    actors: NDArray[np.float64],
    openers: NDArray[np.float64],
    lede_actors: NDArray[np.float64],
    lengths: Sequence[int],
) -> NDArray[np.float64]:
    """article_context_features of consecutive articles at once (the same rows, without a few dozen array
    operations per article): `lengths` are their paragraph counts, the other arrays hold their paragraphs'
    rows one article after the other, and `lede_actors` one row per article."""
    n = scores.shape[0]
    sizes = np.asarray(lengths, dtype=np.int64)
    if n == 0:
        return np.zeros((0, len(context_feature_names()) + max(actors.shape[1] - _EXTRA, 0)))
    starts, size, position, first, last = _article_layout(n, sizes)
    previous, following = _neighbours(scores, first, last)
    index = position.astype(np.float64)
    has_prev = (~first).astype(np.float64)
    has_next = (~last).astype(np.float64)
    relative = index / np.maximum(size - 1, 1)

    own_speaker = actors[:, _SPEAKS]
    extra = actors[:, _EXTRA:]
    # An outsider who speaks (analyst, expert: extra column 0) is a speaker too: such a paragraph does not
    # go on with the last official.
    outsider = extra[:, 0] if extra.shape[1] else np.zeros(n)
    no_own_speaker = ((own_speaker.sum(axis=1) + outsider) == 0).astype(np.float64)
    pronoun_speaker = np.maximum(openers[:, 3], actors[:, _SPEAKS_PRONOUN])

    # The side that last spoke by name before each paragraph, and that paragraph's scores.
    speakers = np.count_nonzero(own_speaker, axis=1).tolist()
    first_speaker = np.argmax(own_speaker != 0, axis=1).tolist()
    last_side_index = np.empty(n, dtype=np.int64)
    last_scores_row = np.empty(n, dtype=np.int64)  # -1: nobody yet, zeros
    nobody = len(ACTOR_GROUPS)
    current_side = current_row = 0
    for i, (is_first, spoken) in enumerate(zip(first.tolist(), speakers, strict=True)):
        if is_first:
            current_side, current_row = nobody, -1
        last_side_index[i], last_scores_row[i] = current_side, current_row
        if spoken == 1:  # one named speaker: the one later paragraphs go on with
            current_side, current_row = first_speaker[i], i
        elif spoken > 1:  # "X says A. Y says B.": the later paragraphs usually continue with Y
            current_side, current_row = nobody, i
    last_side = np.zeros((n, _SPEAKER_SLOTS))
    last_side[np.arange(n), last_side_index] = 1.0
    last_scores = np.where((last_scores_row >= 0)[:, None], scores[np.maximum(last_scores_row, 0)], 0.0)

    # A paragraph that depends on its context: it opens with a pronoun, a bare office or a quotation, or
    # names no speaker of its own.
    dependent = np.clip(openers[:, 0] + openers[:, 1] + openers[:, 2] + no_own_speaker * has_prev, 0.0, 1.0)
    dependent_column = dependent[:, None]
    article_mean = _article_means(scores, starts, sizes)
    return np.hstack(
        [
            scores,
            previous,
            following,
            np.column_stack([has_prev, has_next, 1.0 - has_prev, 1.0 - has_next, relative]),
            own_speaker,
            np.column_stack([no_own_speaker, openers[:, 0], openers[:, 1], openers[:, 2], pronoun_speaker]),
            actors[:, [_QUOTE]],
            extra,
            last_side,
            last_scores,
            dependent_column * last_side,
            dependent_column * previous,
            dependent_column * last_scores,
            np.repeat(lede_actors, sizes, axis=0),
            article_mean,
        ]
    )


def lede_actor_flags(actor_rows: Sequence[NDArray[np.float64]]) -> NDArray[np.float64]:
    """Named actor groups of the headline and lede: the element-wise maximum of their `named:` columns."""
    if not actor_rows:
        return np.zeros(len(ACTOR_GROUPS))
    return np.max(np.vstack([row[_NAMED] for row in actor_rows]), axis=0)


def second_pass_features(
    features: NDArray[np.float64], first_pass: NDArray[np.float64], lengths: Sequence[int]
) -> NDArray[np.float64]:
    """The rows of the context stage's second pass: the first pass's rows, then the first pass's
    probabilities of the paragraph itself, of the paragraphs before and after it, and their mean over its
    article.

    The first pass sees its neighbours through paragraph-stage scores, which label "He added ..." or a bare
    quotation with little to go on; the second sees what the first made of them in their own context, so a
    speaker carried over several paragraphs reaches the later ones. `lengths` are the articles' paragraph
    counts, their rows one article after the other, as for articles_context_features."""
    n = first_pass.shape[0]
    if n == 0:
        return np.zeros((0, features.shape[1] + 4 * N_LABELS))
    sizes = np.asarray(lengths, dtype=np.int64)
    starts, _size, _position, first, last = _article_layout(n, sizes)
    previous, following = _neighbours(first_pass, first, last)
    return np.hstack([features, first_pass, previous, following, _article_means(first_pass, starts, sizes)])


def _article_layout(
    n: int, sizes: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_], NDArray[np.bool_]]:
    """Of n rows of consecutive articles of `sizes` paragraphs: each article's first row, and per row its
    article's size, its position in the article, and whether it is the article's first / last paragraph."""
    starts = np.cumsum(sizes) - sizes
    size = np.repeat(sizes, sizes)
    position = np.arange(n) - np.repeat(starts, sizes)
    return starts, size, position, position == 0, position == size - 1


def _neighbours(
    values: NDArray[np.float64], first: NDArray[np.bool_], last: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each row's previous and next row within its article (zeros at the article's ends)."""
    previous = np.vstack([np.zeros((1, values.shape[1])), values[:-1]])
    previous[first] = 0.0
    following = np.vstack([values[1:], np.zeros((1, values.shape[1]))])
    following[last] = 0.0
    return previous, following


def _article_means(
    values: NDArray[np.float64], starts: NDArray[np.int64], sizes: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Each row's article mean. Per article, as numpy sums one article's rows (a mean over several articles'
    rows at once could add them in another order and differ in the last bit)."""
    means = np.vstack(
        [values[start : start + size].mean(axis=0) for start, size in zip(starts, sizes, strict=True) if size]
    )
    return np.repeat(means, sizes[sizes > 0], axis=0)
