from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wirestance.classifiers.dataset import LabeledDataError, load_labeled_data
from wirestance.classifiers.features import ActorAttribution
from wirestance.classifiers.model import cross_validate, split_for_evaluation, train_model
from wirestance.classifiers.predict import StanceModel


def test_same_data_and_seed_give_the_same_predictions(labeled_dir: Path) -> None:
    dataset = load_labeled_data(labeled_dir)
    probe = ["Peskov told reporters deliveries continue.", "The Pentagon warned of sanctions.", "It rained."]
    split = split_for_evaluation(dataset, 0.25, seed=3)
    first = StanceModel(train_model(split, cv_folds=0).pipeline, "a").predict(probe)
    second = StanceModel(train_model(split_for_evaluation(dataset, 0.25, seed=3), cv_folds=0).pipeline, "b")
    again = second.predict(probe)
    assert first.labels == again.labels
    np.testing.assert_array_equal(first.probabilities, again.probabilities)


def test_evaluation_split_keeps_articles_whole_and_is_frozen(labeled_dir: Path, make_rows, rows_writer) -> None:
    dataset = load_labeled_data(labeled_dir)
    split = split_for_evaluation(dataset, 0.25, seed=0)
    assert not set(split.train.groups) & set(split.evaluation.groups)
    assert split.hash == split_for_evaluation(dataset, 0.25, seed=0).hash
    assert split.hash != split_for_evaluation(dataset, 0.25, seed=1).hash

    # More articles later: the old evaluation articles stay in evaluation.
    more = make_rows() + [{**r, "article_id": "b" + r["article_id"], "text": r["text"] + " (2)"} for r in make_rows()]
    grown = split_for_evaluation(load_labeled_data(rows_writer("grown.jsonl", more)), 0.25, seed=0)
    assert set(split.evaluation.groups) <= set(grown.evaluation.groups)


def test_split_that_leaves_nothing_to_evaluate_is_an_error(make_rows, rows_writer) -> None:
    one_article = [{**r, "article_id": "only"} for r in make_rows()]
    dataset = load_labeled_data(rows_writer("one.jsonl", one_article))
    with pytest.raises(LabeledDataError, match="more articles are needed"):
        split_for_evaluation(dataset, 0.2, seed=0)


def test_grouped_cross_validation_reports_macro_and_per_label_f1(labeled_dir: Path) -> None:
    report = cross_validate(load_labeled_data(labeled_dir), seed=0, n_splits=3)
    assert report.n_splits == 3 and len(report.fold_macro_f1) == 3
    assert 0.0 <= report.macro_f1 <= 1.0
    assert set(report.pooled.per_label_f1) == {"russian_supplier", "turkish_government", "us_objection", "none"}
    assert report.pooled.n_rows == 80


def test_too_few_rows_of_a_label_is_a_data_error(make_rows, rows_writer) -> None:
    rows = [r for r in make_rows() if r["label"] != "us_objection"] + [
        r for r in make_rows() if r["label"] == "us_objection"
    ][:2]
    dataset = load_labeled_data(rows_writer("few.jsonl", rows))
    with pytest.raises(LabeledDataError, match="'us_objection' has 2 training row"):
        cross_validate(dataset)


def test_actor_feature_says_who_speaks() -> None:
    actor = ActorAttribution().fit([])
    names = list(actor.get_feature_names_out())
    texts = [
        "According to Mikheev, Turkey paid in full.",
        "U.S. officials argued the system is incompatible with NATO.",
        "Turkey, however, emphasized that the S-400 would not be integrated.",
        '"We will sign the contracts," he said.',
        "The system was delivered in 2019.",
    ]
    matrix = actor.transform(texts).toarray()
    active = [{names[i] for i in np.flatnonzero(row)} for row in matrix]
    assert "speaks:russian_supplier" in active[0] and "speaks:turkish_government" not in active[0]
    assert "speaks:us_objection" in active[1]
    assert active[2] == {"speaks:turkish_government", "opens:turkish_government"}
    assert active[3] == {"speaks:pronoun", "opens:pronoun", "quote"}
    assert active[4] == {"past_date"}


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        # Rule 10: an analyst speaking in Ankara is not Ankara speaking.
        (
            '"It is a done deal," said Ahmet Kaya, an analyst in Ankara.',
            {"speaks:other"},
            {"speaks:turkish_government"},
        ),
        # A long title ends next to its verb.
        (
            "The Turkish leader said Trump had told him the issue would be solved.",
            {"speaks:turkish_government", "opens:turkish_government"},
            set(),
        ),
        # Rule 11: dated background against a standing position.
        ("In December 2020 Washington imposed sanctions on the SSB.", {"past_date", "opens:us_objection"}, set()),
        ("Washington has repeatedly warned that the system is incompatible.", {"standing_position"}, {"past_date"}),
        ("Turkey had signed the deal two years earlier.", {"background_tense"}, set()),
        # Rule 12: lines that carry no position; a side's unanswered proposal is not one of them.
        ("The State Department did not immediately respond to a request for comment.", {"no_position"}, set()),
        ("The embassy did not return calls seeking comment.", {"no_position"}, set()),
        ("But the U.S. has, so far, not responded to this proposal.", set(), {"no_position"}),
        ("Q: Will Turkey accept Patriots as well?", {"question"}, set()),
        ("Question: what happens to the pilots in Arizona?", {"question"}, set()),
    ],
)
def test_actor_feature_marks_the_guide_rules(text: str, present: set[str], absent: set[str]) -> None:
    actor = ActorAttribution().fit([])
    names = list(actor.get_feature_names_out())
    active = {names[i] for i in np.flatnonzero(actor.transform([text]).toarray()[0])}
    assert present <= active, (text, active)
    assert not (absent & active), (text, active)


def test_a_model_pickled_before_the_rule_columns_keeps_its_layout() -> None:
    actor = ActorAttribution().fit([])
    actor.feature_names_ = actor.feature_names_[:15]  # the layout of models registered before them
    assert actor.transform(["According to Mikheev, Turkey paid in full."]).shape == (1, 15)
