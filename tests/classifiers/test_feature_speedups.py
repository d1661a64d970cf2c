"""The speed-ups of the actor features, the topic score and the character tf-idf block change no output.

Both skip a regular expression on a text that holds none of the substrings every match of it holds. This
checks, on every text of data/labeled/ and of the offline sample: that every match holds one of them (the
invariant the skip relies on), and that the features and scores are the same, bit for bit, as running every
pattern on every text (the implementation before the skips). The character tf-idf block computed word by
word (fast_ngrams.py) gives the fitted vectorizer's own matrix, bit for bit, on those texts and on hostile
ones, and so the same article probabilities; leaving a step of scikit-learn's preprocessing out of it fails
the comparison.
"""

from __future__ import annotations

import bisect
import math
import re
from pathlib import Path

import numpy as np
import pytest
from labeled_texts import labeled_articles, sample_articles
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer, strip_accents_ascii, strip_accents_unicode

from wirestance.classifiers import actors, article_model, topic
from wirestance.classifiers.article_model import ArticleText
from wirestance.classifiers.fast_ngrams import CharWordCounter, is_fast_char_vectorizer, transform_texts
from wirestance.classifiers.features import ActorAttribution, normalize
from wirestance.classifiers.topic import topic_score
from wirestance.classifiers.word_gate import Beginnings, literal_beginnings, words_pattern

DATA = Path(__file__).resolve().parents[2] / "data"


LABELED = labeled_articles()
SAMPLE = sample_articles()
TEXTS = [t for paragraphs in LABELED.values() for t in paragraphs] + [t for _, ps in SAMPLE.values() for t in ps]
ARTICLES = [(None, paragraphs) for paragraphs in LABELED.values()] + list(SAMPLE.values())
# The flags' plain patterns, in column order (three of them gated by words, word_gate.py).
FLAG_PATTERNS = [
    actors._PAST_DATE.pattern,
    actors._BACKGROUND_TENSE,
    actors._STANDING_POSITION.pattern,
    actors._NO_POSITION.pattern,
]


def test_the_texts_are_there():
    assert len(LABELED) > 50 and len(SAMPLE) > 20 and len(TEXTS) > 1000


@pytest.mark.parametrize(
    ("pattern", "needs"),
    [
        (actors._PAST_DATE.pattern, actors._PAST_DATE_NEEDS),
        (actors._BACKGROUND_TENSE, actors._BACKGROUND_TENSE_NEEDS),
        *((re.compile(pattern), needed) for pattern, _, needed in topic._TERMS),
    ],
    ids=lambda value: value.pattern[:30] if isinstance(value, re.Pattern) else None,
)
def test_every_match_holds_a_needed_substring(pattern: re.Pattern[str], needs: tuple[str, ...]):
    texts = [normalize(t) for t in TEXTS] + [normalize(" \n".join([title or "", *ps])) for title, ps in ARTICLES]
    for text in texts:
        for match in pattern.finditer(text):
            assert any(part in match.group() for part in needs), (pattern.pattern, match.group())


def test_the_flags_are_both_set_and_unset():
    """So that the comparisons with the plain patterns below cover both ways."""
    fast = ActorAttribution().fit(TEXTS).transform(TEXTS).toarray()
    names = list(ActorAttribution().fit(TEXTS).get_feature_names_out())
    for name in ("past_date", "background_tense", "standing_position", "no_position"):
        column = fast[:, names.index(name)]
        assert 0 < column.sum() < len(column), name


def _reference_topic_score(paragraphs: list[str], title: str | None) -> float:
    """topic_score as it was: every term's pattern, as written, run on the whole text."""
    text = normalize(" \n".join([title or "", *paragraphs]))
    evidence = sum(
        min(len(re.findall(pattern, text)), topic._MAX_HITS_PER_TERM) * weight for pattern, weight, _ in topic._TERMS
    )
    return 1.0 - math.exp(-evidence)


# Articles whose paragraph ends and starts test that normalizing paragraph by paragraph is normalizing the
# joined article: an abbreviation cut by the join, a final sigma, a leading combining mark, no title.
EDGE_ARTICLES = [
    ("Sanctions by the U.", ["S. over the S-400", "U.S.", "A. said the USA", "US"]),
    (None, ["ΟΔΟΣ", "Σ S-400", "\u0301caatsa ı İ", "Erdoğan’s S‑400 ", " triumf"]),
    ("", ["", "S-400 S-400", ""]),
    ("F-35\u00a8", ["\u00a8F-35 sanctions", "patriot\u2003missiles"]),
]


def test_topic_scores_are_those_of_running_every_pattern():
    articles = ARTICLES + EDGE_ARTICLES + [(HOSTILE[i], HOSTILE[i + 1 : i + 6]) for i in range(0, len(HOSTILE), 6)]
    fast = np.array([topic_score(paragraphs, title).score for title, paragraphs in articles])
    reference = np.array([_reference_topic_score(paragraphs, title) for title, paragraphs in articles])
    assert fast.tobytes() == reference.tobytes()
    assert 0 < (fast >= topic.DEFAULT_THRESHOLD).sum() < len(fast)  # on- and off-topic articles both


# --- the character tf-idf block computed word by word (fast_ngrams.py) ---

# Every kind of text the word-by-word path must split and preprocess exactly as scikit-learn does.
_WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]
HOSTILE = [
    "",
    " ",
    "\t\n\r\x0b\x0c",
    "".join(_WHITESPACE),
    "a",
    "ab abc a b c",
    "Erdoğan İstanbul ılık IŞIK Çavuşoğlu Kılıç Güler",
    "Ankara’s “S-400” deal — naïve façade, Zürich, São Paulo, Łódź, Ærø",
    "Москва поставила С-400 Турции; Анкара заплатила",
    "土耳其购买了S-400防空导弹系统 トルコ 터키",
    "صواريخ إس-400 تركيا روسيا",
    "ΟΔΟΣ ΟΔΟΣΣ ΑΣ Σ ΑΣ\u00a0Β ΑΣ\u2003Β Α\u3000ΣΑ",
    "x" * 5000 + " " + "é" * 3000,
    "tab\tseparated\twords and\nnew\nlines\r\nand  double   spaces",
    "no\u00a0break\u2009thin\u202fnarrow\u3000ideographic\u2028line\u2029para\x85nel\x1cfs\x1dgs",
    "a\u00a8b c\u00b4d e\u02d8f \u00a8 \u00b4\u00b4",  # spacing accents: NFKD turns them into space + mark
    "ﬁnance ﬂight ① ⑴ Ⅻ ½ ＡＢＣ ＄４００ ǅemal ß STRASSE",
    "\u0301leading mark, e\u0301 composed, zero\u200bwidth, soft\u00adhyphen",
    "MiXeD CaSe Turkey TURKEY turkey",
]
for whitespace in _WHITESPACE:  # Greek final sigma must see every whitespace as a word end
    HOSTILE.append(f"ΑΣ{whitespace}Β Α{whitespace}ΣΑ Σ{whitespace}Σ")
    HOSTILE.append(f"word{whitespace}é{whitespace}ab{whitespace}{whitespace}cd")


def _char_vectorizer(**overrides: object):
    """The paragraph stage's character tf-idf (model.build_pipeline), unfitted, with `overrides`."""
    from wirestance.classifiers.model import build_pipeline

    vectorizer = clone(build_pipeline().named_steps["features"].named_transformers["char"])
    return vectorizer.set_params(**overrides)


def _assert_same_matrix(fast, plain, *, same_type: bool = True) -> None:
    assert fast.shape == plain.shape
    assert type(fast) is type(plain) or not same_type
    for name in ("data", "indices", "indptr"):
        mine, theirs = getattr(fast, name), getattr(plain, name)
        assert mine.dtype == theirs.dtype, name
        assert mine.tobytes() == theirs.tobytes(), name


@pytest.fixture(scope="module")
def labeled_char_vectorizer():
    return _char_vectorizer().fit([t for paragraphs in LABELED.values() for t in paragraphs])


def test_the_char_block_is_the_vectorizers_own_on_labeled_and_sample_texts(labeled_char_vectorizer):
    assert is_fast_char_vectorizer(labeled_char_vectorizer)
    _assert_same_matrix(transform_texts(labeled_char_vectorizer, TEXTS), labeled_char_vectorizer.transform(TEXTS))
    # Again from a warm cache, in another order and in small batches.
    for start in range(0, 400, 37):
        batch = TEXTS[::-1][start : start + 37]
        _assert_same_matrix(transform_texts(labeled_char_vectorizer, batch), labeled_char_vectorizer.transform(batch))


@pytest.mark.parametrize(
    "overrides",
    [{}, {"strip_accents": None}, {"lowercase": False}, {"ngram_range": (1, 4)}, {"dtype": np.float32}],
    ids=["model", "no-accent-stripping", "case-kept", "ngrams-1-4", "float32"],
)
def test_the_char_block_is_the_vectorizers_own_on_hostile_text(overrides: dict[str, object]):
    # min_df=1 and the hostile texts in the fit: their n-grams are in the vocabulary, so every one counts.
    vectorizer = _char_vectorizer(min_df=1, **overrides).fit(HOSTILE + TEXTS[:300])
    _assert_same_matrix(transform_texts(vectorizer, HOSTILE), vectorizer.transform(HOSTILE))
    one_by_one = [transform_texts(vectorizer, [text]).toarray() for text in HOSTILE]
    assert np.vstack(one_by_one).tobytes() == vectorizer.transform(HOSTILE).toarray().tobytes()


def test_a_full_word_cache_is_emptied_and_the_counts_stay_exact(labeled_char_vectorizer):
    counter = CharWordCounter.for_vectorizer(labeled_char_vectorizer, cache_size=5)
    counts = counter.counts(TEXTS[:200])
    assert len(counter._rows) <= 5
    expected = CountVectorizer(analyzer="char_wb", ngram_range=(3, 5), strip_accents="unicode", dtype=np.float64)
    expected.vocabulary_ = labeled_char_vectorizer.vocabulary_
    _assert_same_matrix(counts, expected.transform(TEXTS[:200]), same_type=False)


def test_a_refitted_vectorizer_gets_a_new_word_cache():
    vectorizer = _char_vectorizer(min_df=1).fit(TEXTS[:100])
    transform_texts(vectorizer, TEXTS[:50])
    vectorizer.fit(HOSTILE)
    _assert_same_matrix(transform_texts(vectorizer, TEXTS[:50]), vectorizer.transform(TEXTS[:50]))


def test_what_the_word_path_does_not_cover_goes_through_the_vectorizer():
    word = TfidfVectorizer().fit(TEXTS[:100])
    assert not is_fast_char_vectorizer(word)
    _assert_same_matrix(transform_texts(word, TEXTS[:20]), word.transform(TEXTS[:20]))
    char = _char_vectorizer(min_df=1).fit(TEXTS[:100])
    for unsupported in ({"binary": True}, {"preprocessor": str.upper}, {"strip_accents": "ascii"}):
        assert not is_fast_char_vectorizer(clone(char).set_params(**unsupported).fit(TEXTS[:100])), unsupported
    assert not is_fast_char_vectorizer(_char_vectorizer())  # not fitted
    with pytest.raises(ValueError, match="string object received"):
        transform_texts(char, "one text, not a list")
    with pytest.raises(ValueError, match=r"np\.nan"):
        transform_texts(char, ["a text", np.nan])


class _Broken(CharWordCounter):
    """The word path with one piece of scikit-learn's preprocessing left out or changed."""

    def __init__(self, vectorizer, fault: str) -> None:
        preprocess, ngrams = vectorizer.build_preprocessor(), vectorizer._char_wb_ngrams
        super().__init__(vectorizer.vocabulary_, vectorizer.dtype, preprocess, ngrams)
        self.fault = fault
        if fault == "no-lowercase":
            self._preprocess = strip_accents_unicode
        elif fault == "no-accent-stripping":
            self._preprocess = str.lower
        elif fault == "ascii-accent-stripping":
            self._preprocess = lambda text: strip_accents_ascii(text.lower())
        elif fault == "short-words-counted-per-n":
            self._word_ngrams = _ngrams_without_short_word_rule

    def _compute_row(self, raw_word: str) -> bytes:
        if self.fault == "no-resplit":  # a piece that preprocessing splits ("a¨b") kept whole
            columns = [self.vocabulary.get(g) for g in self._word_ngrams(self._preprocess(raw_word).replace(" ", ""))]
            return np.array([c for c in columns if c is not None], dtype=np.int32).tobytes()
        return super()._compute_row(raw_word)


def _ngrams_without_short_word_rule(word: str) -> list[str]:
    padded = f" {word} "
    return [padded[i : i + n] for n in range(3, 6) for i in range(max(len(padded) - n + 1, 1))]


@pytest.mark.parametrize(
    "fault",
    ["no-lowercase", "no-accent-stripping", "ascii-accent-stripping", "short-words-counted-per-n", "no-resplit"],
)
def test_the_comparison_catches_a_preprocessing_step_left_out(fault: str):
    vectorizer = _char_vectorizer(min_df=1).fit(HOSTILE + TEXTS[:300])
    counts = _Broken(vectorizer, fault).counts(HOSTILE)
    assert vectorizer._tfidf.transform(counts).toarray().tobytes() != vectorizer.transform(HOSTILE).toarray().tobytes()


@pytest.fixture(scope="module")
def labeled_article_model(labeled_champion: Path):
    """The article model trained on data/labeled/ (what `retrain` builds): the session's first champion."""
    from wirestance.classifiers.registry import ModelRegistry

    return ModelRegistry(labeled_champion).load_champion().article_model


@pytest.mark.slow
def test_predict_articles_is_the_same_as_through_plain_scikit_learn(
    labeled_article_model, monkeypatch: pytest.MonkeyPatch
):
    articles = [ArticleText(paragraphs, title) for title, paragraphs in ARTICLES]
    articles += [ArticleText(HOSTILE[:12], HOSTILE[12]), ArticleText(HOSTILE[12:40])]
    fast = labeled_article_model.predict_articles(articles)
    matrices = _paragraph_matrix(labeled_article_model, TEXTS + HOSTILE)
    monkeypatch.setattr(article_model, "transform_texts", lambda transformer, texts: transformer.transform(texts))
    plain = labeled_article_model.predict_articles(articles)
    _assert_same_matrix(matrices, _paragraph_matrix(labeled_article_model, TEXTS + HOSTILE))
    _assert_same_matrix(
        matrices, labeled_article_model.paragraph_pipeline.named_steps["features"].transform(TEXTS + HOSTILE)
    )
    assert len(fast) == len(plain) == len(articles)
    for mine, theirs in zip(fast, plain, strict=True):
        assert mine.probabilities.tobytes() == theirs.probabilities.tobytes()
        assert mine.topic == theirs.topic


def _paragraph_matrix(model, texts):
    """The stacked feature matrix paragraph_outputs feeds the classifier."""
    captured = []
    classifier = model.paragraph_pipeline.named_steps["classifier"]
    original = classifier.predict_proba

    def capture(matrix):
        captured.append(matrix)
        return original(matrix)

    classifier.predict_proba = capture
    try:
        model.paragraph_outputs(texts)
    finally:
        del classifier.predict_proba
    return captured[0]


# --- ActorAttribution: the look-ahead patterns and the skipped scans ---

# Paragraphs that put the actor patterns' edge cases next to each other: a bare country beside a named
# actor, country + office, overlapping groups, "according to" with nobody after it, outsiders, pronouns.
ACTOR_EDGES = [
    "Russia said it delivered. Moscow's envoy added nothing.",
    "Russia and Moscow welcomed it, the Kremlin said.",
    "Turkey, Ankara and Turkiye: the Turkish defence minister said Akar agreed.",
    "American and NATO officials argued, the United States' ambassador warned, Washington said.",
    "The United States said so. U.S. officials told reporters; USA Today reported it.",
    "According to, according to him, according to the minister, according to NATO.",
    "He said she said they said. Analysts, experts and senior fellows said the alliance's army was ready.",
    "Nato spokesperson Oana Lungescu said; NATO secretary general Jens Stoltenberg said; nato's military.",
    "Senators and congressmen, a senator and a congresswoman; lawmakers said Senate aides objected.",
    "ankara-based russian-made turkey’s turkeys russians americans moscowite washingtonian",
    "said" * 40 + " russia " + "x " * 30 + " said",
    "Erdoğan said. Çavuşoğlu told. Kılıç objected. Güler stressed. İsmail Demir noted.",
    "Mr Putin, President Putin's Kremlin and Rostec's Chemezov, whose firm Rosoboronexport said.",
    "Who said? Q: Did Turkey pay? Question: did the Pentagon say no?",
]


def _reference_actor_features(text: str, window: int = 12) -> list[float]:
    """ActorAttribution._features as it was: every pattern run on every paragraph, no look-ahead."""
    f = actors

    def alternation(patterns):
        return "|".join(sorted(patterns, key=len, reverse=True))

    patterns = {}
    for group in f.ACTOR_GROUPS:
        named = [*f._NAMED_ACTORS[group], rf"(?:{f._COUNTRY_WORDS[group]}) {f._OFFICES}"]
        patterns[group] = (
            re.compile(rf"\b(?:{alternation(named)})\b"),
            re.compile(rf"\b(?:{alternation([*named, f._COUNTRY_ACTORS[group]])})\b"),
        )
    verb = re.compile(rf"\b(?:{f._ATTRIBUTION_VERBS})\b")
    according = re.compile(rf"\b{f._ACCORDING_TO}\b")
    pronoun = re.compile(r"\b(?:he|she)\b")
    other = re.compile(rf"\b(?:{f._OTHER_VOICES})\b")
    plain = normalize(text)
    starts = [m.start() for m in re.finditer(r"\S+", plain)]

    def token_at(offset):
        return bisect.bisect_right(starts, offset) - 1

    def nearest(mentions, position, forward_only):
        best = None
        for first, last, group in mentions:
            if forward_only and first < position:
                continue
            preceding = last <= position
            distance = position - last if preceding else max(first - position, 0)
            if distance <= window and (best is None or (distance, 0 if preceding else 1, group) < best):
                best = (distance, 0 if preceding else 1, group)
        return None if best is None else best[2]

    mentions = []
    named_flags = dict.fromkeys(f.ACTOR_GROUPS, 0.0)
    for group, (named_pattern, every_pattern) in patterns.items():
        named_flags[group] = 1.0 if named_pattern.search(plain) else 0.0
        mentions += [(token_at(m.start()), token_at(m.end() - 1), group) for m in every_pattern.finditer(plain)]
    for group, pattern in (("pronoun", pronoun), ("other", other)):
        mentions += [(token_at(m.start()), token_at(m.end() - 1), group) for m in pattern.finditer(plain)]
    speaks = dict.fromkeys((*f.ACTOR_GROUPS, "pronoun", "other"), 0.0)
    for m in verb.finditer(plain):
        if (group := nearest(mentions, token_at(m.start()), False)) is not None:
            speaks[group] = 1.0
    for m in according.finditer(plain):
        if (group := nearest(mentions, token_at(m.end()), True)) is not None:
            speaks[group] = 1.0
    opens = dict.fromkeys((*f.ACTOR_GROUPS, "other", "pronoun"), 0.0)
    opening = [(first, group) for first, _, group in mentions if first < f.OPENING_TOKENS]
    if opening:
        opens[min(opening)[1]] = 1.0
    return [
        *(speaks[g] for g in (*f.ACTOR_GROUPS, "pronoun")),
        *named_flags.values(),
        1.0 if re.search(r"[\"“”«»]", text) else 0.0,
        speaks["other"],
        *opens.values(),
        *(1.0 if pattern.search(plain) else 0.0 for pattern in FLAG_PATTERNS),
        1.0 if f._QUESTION_OPENER.match(plain) or plain.rstrip().endswith("?") else 0.0,
    ]


def test_actor_features_are_those_of_the_plain_patterns():
    texts = TEXTS + HOSTILE + ACTOR_EDGES
    fast = ActorAttribution().fit(texts).transform(texts).toarray()
    reference = np.array([_reference_actor_features(text) for text in texts], dtype=np.float64)
    assert fast.tobytes() == reference.tobytes()
    # Every column is both set and unset somewhere: the comparison covers both ways.
    assert ((fast.sum(axis=0) > 0) & (fast.sum(axis=0) < len(texts))).all()
    # The three ways to the named flags occur: no match of `every` (no scan of `named`), a named actor
    # among its matches (no scan either), and bare country names only (`named` is scanned).
    ways = {_named_flag_way(normalize(text), group) for text in texts for group in actors.ACTOR_GROUPS}
    assert ways == {"no actor", "a named actor", "bare countries only"}


def _named_flag_way(plain: str, group: str) -> str:
    found = list(actors._ACTOR_PATTERNS[group][1].pattern.finditer(plain))
    if not found:
        return "no actor"
    return "bare countries only" if all(m.lastgroup == actors._COUNTRY_ONLY for m in found) else "a named actor"


@pytest.mark.parametrize(
    "pattern",
    ["said|says", "(?:a|b)c", "(?:senior |research )?fellows?", "(?P<name>x|y)z", r"(?:a\)|b)c"],
)
def test_the_look_ahead_lists_every_letter_a_match_can_start_with(pattern: str):
    with_look_ahead = re.compile(words_pattern(pattern))
    plain = re.compile(rf"\b(?:{pattern})\b")
    text = " ".join(["said says ac bc cc senior fellows research fellow fellows sfellows xz yz zz a)c", *TEXTS[:50]])
    assert [m.span() for m in with_look_ahead.finditer(text)] == [m.span() for m in plain.finditer(text)]


@pytest.mark.parametrize("pattern", ["s?aid", "(?:a|b){2}c", "Said", "[ab]c", r"\w+"])
def test_a_pattern_whose_first_letters_are_unclear_is_refused(pattern: str):
    with pytest.raises(ValueError):
        words_pattern(pattern)


# --- the word gate: patterns tried only at the words that can start them (word_gate.py) ---

# Words that start, contain or end like the gated words: a gate must neither miss nor invent a match.
GATE_EDGES = [
    "the he_ _he 2he he2 éhe heé he's he-she she. ashe shed he",
    "in. in' within inner 'in' in a statement, in an interview; said-said unsaid saidx",
    "didn't didn’t did not didnt has not hasn't have long argued had not could not be reached",
    "senators senatorial senator's senator congressmen congressman congressmanx",
    "russia's russians russian-made moscow's moscowite ankara's turkiye's turkiyes",
    "analysts analyst's think-tank think tank thinker fellowship senior fellows research fellow",
    "in 2019 back in 2017 as early as 2015 as of 2020 on july 12, 2019 by mid-2019 until2019",
    "no comment, no immediate comment; requests for comment request for comment requested",
    "continues to, continue to, remains opposed, remain committed, has repeatedly warned",
    "ﬁnance ınhe HE She İn ÇAVUŞOĞLU said",
]
GATE_TEXTS = TEXTS + HOSTILE + ACTOR_EDGES + GATE_EDGES


@pytest.mark.parametrize("name", sorted(actors._GATE.patterns))
def test_a_gated_pattern_finds_what_its_scan_finds(name: str):
    pattern = actors._GATE.patterns[name].pattern
    found = 0
    for text in GATE_TEXTS:
        for plain in (normalize(text), text):
            scan = actors._GATE.scan(plain)
            expected = [m.span() for m in pattern.finditer(plain)]
            assert [m.span() for m in scan.finditer(name)] == expected, (name, plain[:80])
            first = scan.search(name)
            assert (first.span() if first else None) == (expected[0] if expected else None)
            found += len(expected)
    assert found > 0, name  # the comparison saw matches, not only their absence


@pytest.mark.parametrize(
    ("pattern", "bounded", "whole", "partial"),
    [
        ("said|in a statement|told", False, {"said", "in", "told"}, set()),
        ("senators?|congressm[ae]n|spokes\\w+", False, set(), {"senator", "congressm", "spokes"}),
        ("(?:senior |research )?fellows?", False, {"senior", "research"}, {"fellow"}),
        ("(?:russia|moscow)'s|(?P<x>ankara|turkey)", False, {"russia", "moscow", "ankara", "turkey"}, set()),
        ("(?:russia|moscow)s", False, set(), {"russia", "moscow"}),
        ("abc.d|ab,c|xy\\.z", False, {"ab"}, {"abc", "xy"}),
        ("\\bhas\\s+x|\\bcontinues? to|\\b(?:in|on) 20", True, {"has", "in", "on"}, {"continue"}),
        ("\\bhad", True, set(), {"had"}),
    ],
)
def test_literal_beginnings(pattern: str, bounded: bool, whole: set[str], partial: set[str]):
    assert literal_beginnings(pattern, bounded=bounded) == Beginnings(frozenset(whole), frozenset(partial))


@pytest.mark.parametrize(
    ("pattern", "bounded"),
    [("s?aid", False), ("\\w+ly", False), ("(?:\\w+ )?years", False), ("said", True), ("\\b(?:a|b){2}", True)],
)
def test_a_pattern_whose_beginnings_are_unclear_is_not_gated(pattern: str, bounded: bool):
    with pytest.raises(ValueError):
        literal_beginnings(pattern, bounded=bounded)


def test_the_token_locator_counts_tokens_as_the_whitespace_split_does():
    for text in GATE_TEXTS:
        plain = normalize(text)
        starts = [m.start() for m in re.finditer(r"\S+", plain)]
        token_at = actors._token_locator(plain)
        assert [token_at(offset) for offset in range(len(plain) + 1)] == [
            bisect.bisect_right(starts, offset) - 1 for offset in range(len(plain) + 1)
        ], plain[:80]


@pytest.mark.parametrize(
    ("term", "rewritten"),
    [
        ("\\bcaatsa\\b", "caatsa(?<=\\bcaatsa)\\b"),
        ("\\bf-?35s?\\b", "f(?<=\\bf)-?35s?\\b"),
        ("\\bmissile (?:a|b)s?\\b", "missile (?<=\\bmissile )(?:a|b)s?\\b"),
        ("\\ba+b", "\\ba+b"),
        ("\\b(?:x|y)\\b", "\\b(?:x|y)\\b"),
        ("\\bab\\b|\\bcd\\b", "\\bab\\b|\\bcd\\b"),
        ("s-?400", "s-?400"),
    ],
)
def test_topic_terms_open_with_their_literal_word(term: str, rewritten: str):
    assert topic._literal_first(term) == rewritten
    text = " ".join(["xcaatsa caatsa caatsas f35 f-35s xf35 missile a missile bs missiles aab ab x y cd", *TEXTS[:200]])
    assert re.findall(rewritten, text) == re.findall(term, text)


# --- the context stage's features of many articles at once ---


def _reference_article_context_features(scores, actors, openers, lede_actors):
    """context.article_context_features as it was: one article, array operations per article."""
    speaks, speaks_pronoun, quote, extra_from = slice(0, 4), 4, 9, 10
    n = scores.shape[0]
    zeros = np.zeros((1, 4))
    previous = np.vstack([zeros, scores[:-1]])
    following = np.vstack([scores[1:], zeros])
    index = np.arange(n, dtype=np.float64)
    has_prev = (index > 0).astype(np.float64)
    has_next = (index < n - 1).astype(np.float64)
    relative = index / max(n - 1, 1)
    own_speaker = actors[:, speaks]
    extra = actors[:, extra_from:]
    outsider = extra[:, 0] if extra.shape[1] else np.zeros(n)
    no_own_speaker = ((own_speaker.sum(axis=1) + outsider) == 0).astype(np.float64)
    pronoun_speaker = np.maximum(openers[:, 3], actors[:, speaks_pronoun])
    last_side = np.zeros((n, 5))
    last_scores = np.zeros((n, 4))
    current_side, current_scores = 4, np.zeros(4)
    for i in range(n):
        last_side[i, current_side] = 1.0
        last_scores[i] = current_scores
        spoken = np.flatnonzero(own_speaker[i])
        if spoken.size == 1:
            current_side, current_scores = int(spoken[0]), scores[i]
        elif spoken.size > 1:
            current_side, current_scores = 4, scores[i]
    dependent = np.clip(openers[:, 0] + openers[:, 1] + openers[:, 2] + no_own_speaker * has_prev, 0.0, 1.0)
    dependent_column = dependent[:, None]
    article_mean = np.repeat(scores.mean(axis=0, keepdims=True), n, axis=0)
    return np.hstack(
        [
            scores,
            previous,
            following,
            np.column_stack([has_prev, has_next, 1.0 - has_prev, 1.0 - has_next, relative]),
            own_speaker,
            np.column_stack([no_own_speaker, openers[:, 0], openers[:, 1], openers[:, 2], pronoun_speaker]),
            actors[:, [quote]],
            extra,
            last_side,
            last_scores,
            dependent_column * last_side,
            dependent_column * previous,
            dependent_column * last_scores,
            np.repeat(lede_actors[None, :], n, axis=0),
            article_mean,
        ]
    )


@pytest.mark.parametrize("actor_columns", [22, 10], ids=["today", "model-before-the-extra-columns"])
def test_context_features_of_many_articles_are_those_of_each_article(actor_columns: int):
    from wirestance.classifiers.context import article_context_features, articles_context_features

    rng = np.random.default_rng(13)
    lengths = [1, 2, 0, 7, 1, 30, 3, 0, 12, *rng.integers(0, 25, size=200).tolist()]
    n = sum(lengths)
    scores = rng.dirichlet(np.ones(4), size=n)
    # Sparse 0/1 actor columns, so paragraphs with no, one and several speakers all occur.
    actors = (rng.random((n, actor_columns)) < 0.2).astype(np.float64)
    openers = (rng.random((n, 4)) < 0.3).astype(np.float64)
    lede = (rng.random((len(lengths), 4)) < 0.5).astype(np.float64)
    together = articles_context_features(scores, actors, openers, lede, lengths)
    firsts = np.cumsum(lengths) - lengths
    parts = [slice(first, first + length) for first, length in zip(firsts, lengths, strict=True)]
    reference = np.vstack(
        [
            _reference_article_context_features(scores[part], actors[part], openers[part], lede[a])
            for a, part in enumerate(parts)
            if part.stop > part.start
        ]
    )
    assert together.shape == reference.shape and together.tobytes() == reference.tobytes()
    one = [article_context_features(scores[p], actors[p], openers[p], lede[a]) for a, p in enumerate(parts)]
    assert np.vstack(one).tobytes() == reference.tobytes()
    speakers = np.count_nonzero(actors[:, :4], axis=1)
    assert {0, 1} < set(speakers.tolist())  # no, one and several named speakers in a paragraph
