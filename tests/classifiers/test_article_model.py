"""The article-aware model: context carries the speaker, the topic gate, bad article input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from wirestance.classifiers.article_model import ArticleText
from wirestance.classifiers.features import ActorAttribution
from wirestance.classifiers.jsonl import JsonlInputError, classify_jsonl
from wirestance.classifiers.labels import LABELS
from wirestance.classifiers.topic import topic_score

SAMPLE_ARTICLES = Path(__file__).resolve().parents[2] / "data" / "samples" / "anadolu_en" / "articles.json"


def test_a_paragraph_that_names_nobody_takes_the_side_of_the_last_speaker(context_model) -> None:
    continuation = "He added that the talks would continue after the holiday."
    openers = {
        "russian_supplier": "Kremlin spokesman Dmitry Peskov said the training of combat crews ends this year.",
        "us_objection": "Senator Lindsey Graham said the deadline to drop the deal expires at the end of July.",
        "turkish_government": "Mevlut Cavusoglu said threats of sanctions will not change the decision.",
    }
    for side, opener in openers.items():
        result = context_model.predict_articles([ArticleText([opener, continuation], title="S-400 talks")])[0]
        assert result.predictions.labels == [side, side], side
    # Alone, the same paragraph has no speaker: the paragraph stage cannot say whose it is.
    alone = context_model.predict([continuation])
    together = context_model.predict_articles([ArticleText([openers["us_objection"], continuation])])[0]
    assert together.predictions.confidence[1] > alone.confidence[0]


def test_articles_are_labelled_independently_and_in_one_call(context_model) -> None:
    first = ArticleText(["Senator Lindsey Graham said CAATSA sanctions are mandatory under the law.", "He added more."])
    second = ArticleText(["Alexander Mikheev said the customer paid in full for the S-400.", "He added more."])
    both = context_model.predict_articles([first, second])
    assert [r.predictions.labels for r in both] == [
        r.predictions.labels
        for r in (context_model.predict_articles([first])[0], context_model.predict_articles([second])[0])
    ]
    for result in both:
        np.testing.assert_allclose(result.predictions.probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert context_model.predict_articles([]) == []
    with pytest.raises(TypeError):
        context_model.predict_articles(first)  # type: ignore[arg-type]


def test_paragraphs_of_an_off_topic_article_are_none(context_model) -> None:
    article = ArticleText(
        [
            "Foreign Minister Mevlut Cavusoglu said the tulip festival drew record crowds.",
            "He added that it ends Sunday.",
        ],
        title="Istanbul's tulip festival draws visitors",
    )
    result = context_model.predict_articles([article])[0]
    assert not result.on_topic and result.topic_score < 0.5
    assert result.predictions.labels == ["none", "none"]


def test_topic_flag_on_the_sample_feed() -> None:
    """The replay sample marks each article's topic: every S-400 piece on topic, the others (a gas pipeline,
    a Syria cease-fire between the same two governments, a tulip festival) off."""
    articles = json.loads(SAMPLE_ARTICLES.read_text(encoding="utf-8"))
    flags = {a["title"]: topic_score(a["paragraphs"], a["title"]).on_topic for a in articles}
    expected = {a["title"]: a["topic"] == "s400" for a in articles}
    assert flags == expected
    assert sum(not on for on in expected.values()) == 3


def test_classify_labels_an_article_together_whatever_the_row_order(context_model, tmp_path: Path) -> None:
    rows = [
        {
            "id": "b",
            "article_id": 7,
            "para_index": 1,
            "text": "He added that the talks would continue after the holiday.",
        },
        {"id": "x", "text": "He added that the talks would continue after the holiday.", "label": "none"},
        {
            "id": "a",
            "article_id": 7,
            "para_index": 0,
            "text": "Senator Lindsey Graham said CAATSA sanctions are mandatory.",
        },
        {
            "id": "c",
            "article_id": 7,
            "source": "other",
            "para_index": 0,
            "text": "Alexander Mikheev said the S-400 is paid.",
        },
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    target = tmp_path / "out.jsonl"
    assert classify_jsonl(source, target, context_model) == 4
    out = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in out] == ["b", "x", "a", "c"]
    assert out[0]["predicted_label"] == out[2]["predicted_label"] == "us_objection"
    assert out[1]["label"] == "none"  # a gold label stays as it was
    assert "on_topic" not in out[1] and out[0]["on_topic"] is True
    assert out[3]["predicted_label"] == "russian_supplier"  # another source: another article
    for row in out:
        assert set(row) >= {"predicted_label", "confidence", "probabilities", "model_version"}
        assert list(row["probabilities"]) == list(LABELS)


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ({"article_id": "a1", "text": "x"}, "line 3: article_id 'a1' without a para_index"),
        (
            {"article_id": "a1", "para_index": 0, "text": "x"},
            "line 3: para_index 0 of article 'a1' already given on line 1",
        ),
        ({"article_id": "a1", "para_index": "two", "text": "x"}, "line 3: para_index must be a non-negative integer"),
        ({"text": "x", "predicted_label": "none"}, "line 3: field.*predicted_label would be overwritten"),
    ],
)
def test_bad_article_rows_name_their_line_and_write_nothing(
    context_model, tmp_path: Path, bad_row: dict, message: str
) -> None:
    rows = [{"article_id": "a1", "para_index": 0, "text": "One."}, {"text": "Two."}, bad_row]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    with pytest.raises(JsonlInputError, match=message):
        classify_jsonl(source, tmp_path / "out.jsonl", context_model)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_actor_attribution_is_a_scikit_learn_transformer() -> None:
    texts = ["Akar said the S-400 will not be integrated.", "The system was delivered."]
    transformer = ActorAttribution()
    assert clone(transformer).get_params() == {"window": 12}
    with pytest.raises(ValueError, match="single string"):
        transformer.fit("Akar said so.")
    for window in (0, -3, 2.5, "12"):
        with pytest.raises(ValueError, match="window must be a positive integer"):
            ActorAttribution(window=window).fit(texts)  # type: ignore[arg-type]
    fitted = transformer.fit(texts)
    with pytest.raises(ValueError, match="single string"):
        fitted.transform("Akar said so.")
    assert fitted.fit_transform(texts).shape == (2, len(fitted.get_feature_names_out()))
