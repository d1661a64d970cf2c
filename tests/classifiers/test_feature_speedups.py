"""The speed-ups of the actor features and the topic score change no output.

Both skip a regular expression on a text that holds none of the substrings every match of it holds. This
checks, on every text of data/labeled/ and of the offline sample: that every match holds one of them (the
invariant the skip relies on), and that the features and scores are the same, bit for bit, as running every
pattern on every text (the implementation before the skips).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from wirestance.classifiers import features, topic
from wirestance.classifiers.features import ActorAttribution, normalize
from wirestance.classifiers.topic import topic_score

DATA = Path(__file__).resolve().parents[2] / "data"


def _labeled_articles() -> dict[str, list[str]]:
    """Paragraph texts of data/labeled/, grouped by article in paragraph order."""
    articles: dict[str, list[tuple[int, str]]] = {}
    for path in sorted((DATA / "labeled").glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.strip():
                row = json.loads(line)
                key = f"{path.name}:{row.get('article_id') or number}"
                articles.setdefault(key, []).append((int(row.get("para_index") or 0), row["text"]))
    return {key: [text for _, text in sorted(rows)] for key, rows in articles.items()}


def _sample_articles() -> dict[str, tuple[str | None, list[str]]]:
    found = {}
    for path in sorted((DATA / "samples").glob("*/articles.json")):
        for number, article in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            found[f"{path.parent.name}:{number}"] = (article.get("title"), list(article["paragraphs"]))
    return found


LABELED = _labeled_articles()
SAMPLE = _sample_articles()
TEXTS = [t for paragraphs in LABELED.values() for t in paragraphs] + [t for _, ps in SAMPLE.values() for t in ps]
ARTICLES = [(None, paragraphs) for paragraphs in LABELED.values()] + list(SAMPLE.values())
FLAG_PATTERNS = [
    (features._PAST_DATE, features._PAST_DATE_NEEDS),
    (features._BACKGROUND_TENSE, features._BACKGROUND_TENSE_NEEDS),
    (features._STANDING_POSITION, features._STANDING_POSITION_NEEDS),
    (features._NO_POSITION, features._NO_POSITION_NEEDS),
]


def test_the_texts_are_there():
    assert len(LABELED) > 50 and len(SAMPLE) > 20 and len(TEXTS) > 1000


@pytest.mark.parametrize(
    ("pattern", "needs"),
    FLAG_PATTERNS + [(pattern, needed) for pattern, _, needed in topic._COMPILED],
    ids=lambda value: value.pattern[:30] if isinstance(value, re.Pattern) else None,
)
def test_every_match_holds_a_needed_substring(pattern: re.Pattern[str], needs: tuple[str, ...]):
    texts = [normalize(t) for t in TEXTS] + [normalize(" \n".join([title or "", *ps])) for title, ps in ARTICLES]
    for text in texts:
        for match in pattern.finditer(text):
            assert any(part in match.group() for part in needs), (pattern.pattern, match.group())


def test_actor_features_are_those_of_scanning_every_paragraph(monkeypatch: pytest.MonkeyPatch):
    fast = ActorAttribution().fit(TEXTS).transform(TEXTS).toarray()
    monkeypatch.setattr(features, "_flag", lambda text, pattern, needs: 1.0 if pattern.search(text) else 0.0)
    reference = ActorAttribution().fit(TEXTS).transform(TEXTS).toarray()
    assert fast.tobytes() == reference.tobytes()
    # The flags the skips guard are both set and unset on these texts: the comparison covers both ways.
    names = list(ActorAttribution().fit(TEXTS).get_feature_names_out())
    for name in ("past_date", "background_tense", "standing_position", "no_position"):
        column = fast[:, names.index(name)]
        assert 0 < column.sum() < len(column), name


def _reference_topic_score(paragraphs: list[str], title: str | None) -> float:
    """topic_score as it was: every term's pattern run on the whole text."""
    text = normalize(" \n".join([title or "", *paragraphs]))
    evidence = sum(
        min(len(pattern.findall(text)), topic._MAX_HITS_PER_TERM) * weight for pattern, weight, _ in topic._COMPILED
    )
    return 1.0 - math.exp(-evidence)


def test_topic_scores_are_those_of_running_every_pattern():
    fast = np.array([topic_score(paragraphs, title).score for title, paragraphs in ARTICLES])
    reference = np.array([_reference_topic_score(paragraphs, title) for title, paragraphs in ARTICLES])
    assert fast.tobytes() == reference.tobytes()
    assert 0 < (fast >= topic.DEFAULT_THRESHOLD).sum() < len(fast)  # on- and off-topic articles both
