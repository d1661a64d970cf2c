"""The article-aware model: context carries the speaker, the topic gate, bad article input."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from wirestance.classifiers.article_model import ArticleText, in_label_order
from wirestance.classifiers.context import second_pass_features
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
    alone = [context_model.predict_articles([first])[0], context_model.predict_articles([second])[0]]
    assert [r.predictions.labels for r in both] == [r.predictions.labels for r in alone]
    for together, by_itself in zip(both, alone, strict=True):  # neither context pass reaches across articles
        np.testing.assert_allclose(
            together.predictions.probabilities, by_itself.predictions.probabilities, rtol=0, atol=1e-12
        )
    for result in both:
        np.testing.assert_allclose(result.predictions.probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert context_model.predict_articles([]) == []
    with pytest.raises(TypeError):
        context_model.predict_articles(first)  # type: ignore[arg-type]


def test_the_second_pass_sees_the_first_pass_of_each_paragraph_and_its_neighbours_in_its_article() -> None:
    features = np.arange(10, dtype=np.float64).reshape(5, 2)
    first_pass = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.7, 0.1], [0.1, 0.1, 0.1, 0.7],
                           [0.4, 0.3, 0.2, 0.1]])  # fmt: skip
    rows = second_pass_features(features, first_pass, [2, 3])  # two articles: paragraphs 0-1 and 2-4
    width = len(LABELS)
    assert rows.shape == (5, 2 + 4 * width)
    own, previous, following, mean = (rows[:, 2 + width * i : 2 + width * (i + 1)] for i in range(4))
    nothing = np.zeros(width)
    np.testing.assert_array_equal(rows[:, :2], features)
    np.testing.assert_array_equal(own, first_pass)
    np.testing.assert_array_equal(previous, [nothing, first_pass[0], nothing, first_pass[2], first_pass[3]])
    np.testing.assert_array_equal(following, [first_pass[1], nothing, first_pass[3], first_pass[4], nothing])
    np.testing.assert_allclose(mean, [first_pass[:2].mean(axis=0)] * 2 + [first_pass[2:].mean(axis=0)] * 3)
    assert second_pass_features(np.zeros((0, 2)), np.zeros((0, width)), []).shape == (0, 2 + 4 * width)


def test_a_model_pickled_before_the_second_pass_labels_with_one_pass(context_model) -> None:
    fitted = context_model.article_model
    assert fitted.second_pass is not None
    older = copy.copy(fitted)
    del older.__dict__["second_pass"]  # what unpickling a model saved before the second pass gives
    older = pickle.loads(pickle.dumps(older))
    assert older.second_pass is None
    width = fitted.context_classifier.n_features_in_
    features = np.random.default_rng(0).random((6, width))
    first_pass = in_label_order(fitted.context_classifier.predict_proba(features), fitted.context_classifier.classes_)
    np.testing.assert_allclose(older.context_probabilities(features, [2, 4]), first_pass, rtol=0, atol=1e-12)
    assert not np.allclose(fitted.context_probabilities(features, [2, 4]), first_pass)
    article = ArticleText(["Alexander Mikheev said the customer paid in full.", "He added more."], title="S-400")
    assert len(older.predict_articles([article])[0].probabilities) == 2


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
