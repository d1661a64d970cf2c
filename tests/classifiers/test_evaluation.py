"""Two models compared on the same labelled rows: the difference, its paired article-bootstrap interval, and
the paragraphs fixed and broken."""

from __future__ import annotations

import numpy as np
import pytest

from wirestance.classifiers.dataset import LabeledDataset, LabeledRow
from wirestance.classifiers.evaluation import (
    article_bootstrap_interval,
    paired_comparison,
    paired_comparison_lines,
)
from wirestance.classifiers.labels import LABELS

ARTICLES = 20
PARAGRAPHS = 4


def _dataset() -> LabeledDataset:
    """20 articles of 4 paragraphs, the labels cycling through all four."""
    rows = [
        LabeledRow(
            text=f"paragraph {article}-{index}",
            label=LABELS[(article + index) % len(LABELS)],
            group=f"article-{article}",
            row_key=f"article-{article}#{index}",
            location=f"test row {article * PARAGRAPHS + index}",
            para_index=index,
        )
        for article in range(ARTICLES)
        for index in range(PARAGRAPHS)
    ]
    return LabeledDataset(tuple(rows), "test")


def _probabilities(dataset: LabeledDataset, wrong: set[int]) -> np.ndarray:
    """Confident probabilities: the gold label, except at the row positions in `wrong` (the next label)."""
    probabilities = np.full((len(dataset), len(LABELS)), 0.02)
    for position, label in enumerate(dataset.labels):
        chosen = LABELS.index(label)
        if position in wrong:
            chosen = (chosen + 1) % len(LABELS)
        probabilities[position, chosen] = 0.94
    return probabilities


def test_a_model_against_itself_differs_by_nothing() -> None:
    dataset = _dataset()
    probabilities = _probabilities(dataset, {1, 6, 30})
    comparison = paired_comparison("same", dataset, probabilities, probabilities.copy())
    assert comparison.difference == 0.0 and comparison.difference_interval == (0.0, 0.0)
    assert (comparison.fixed, comparison.broken) == (0, 0) and comparison.within_chance
    assert set(comparison.label_f1_changes.values()) == {0.0}


def test_fixes_spread_over_articles_are_more_than_chance() -> None:
    dataset = _dataset()
    # The baseline is wrong on one paragraph in each of 8 articles; the candidate fixes all 8 and breaks one.
    baseline_wrong = {article * PARAGRAPHS + 1 for article in range(8)}
    candidate_wrong = {12 * PARAGRAPHS + 2}
    comparison = paired_comparison(
        "spread", dataset, _probabilities(dataset, baseline_wrong), _probabilities(dataset, candidate_wrong)
    )
    assert (comparison.fixed, comparison.broken) == (8, 1)
    assert comparison.n_rows == ARTICLES * PARAGRAPHS and comparison.n_articles == ARTICLES
    low, high = comparison.difference_interval
    assert 0.0 < low < comparison.difference < high and not comparison.within_chance
    assert comparison.candidate_macro_f1 > comparison.baseline_macro_f1


def test_fixes_in_one_article_are_within_chance() -> None:
    """Resampling whole articles: the one article that holds every fix is left out of about a third of the
    draws, so the interval reaches zero (resampling paragraphs, its four rows would almost never all be)."""
    dataset = _dataset()
    baseline_wrong = set(range(5 * PARAGRAPHS, 6 * PARAGRAPHS))
    comparison = paired_comparison(
        "one article", dataset, _probabilities(dataset, baseline_wrong), _probabilities(dataset, set())
    )
    assert (comparison.fixed, comparison.broken) == (4, 0) and comparison.difference > 0
    assert comparison.difference_interval[0] == 0.0 and comparison.within_chance
    lines = paired_comparison_lines(comparison, "old", "new")
    assert lines[0].startswith("new against old on one article: macro-F1 1.0000 vs")
    assert "within chance" in lines[0] and "over 20 articles" in lines[0]
    assert "4 fixed, 0 broken" in lines[1]


def test_the_paired_interval_is_narrower_than_the_scores_own() -> None:
    """Both models err on the same hard paragraphs: each score alone moves with the draw of articles more than
    their difference does (the difference of two scores drawn on separate resamples would move ~1.4 times
    as much as one)."""
    dataset = _dataset()
    shared = {article * PARAGRAPHS + 3 for article in range(0, ARTICLES, 2)}
    baseline = _probabilities(dataset, shared | {4 * PARAGRAPHS})
    candidate = _probabilities(dataset, shared | {9 * PARAGRAPHS})
    comparison = paired_comparison("shared errors", dataset, baseline, candidate)
    own_low, own_high = article_bootstrap_interval(
        dataset.labels, [LABELS[i] for i in candidate.argmax(axis=1)], dataset.groups
    )
    low, high = comparison.difference_interval
    assert high - low < own_high - own_low


def test_a_few_articles_give_no_verdict() -> None:
    dataset = _dataset()
    few = dataset.subset(range(3 * PARAGRAPHS))  # three articles
    comparison = paired_comparison("few", few, _probabilities(few, {0, 5, 9}), _probabilities(few, set()))
    assert comparison.fixed == 3 and comparison.n_articles == 3 and comparison.within_chance
    assert (
        "too few articles for the interval to judge chance (fewer than 10)"
        in paired_comparison_lines(comparison, "old", "new")[0]
    )


def test_probabilities_of_another_shape_are_refused_with_the_set_named() -> None:
    dataset = _dataset()
    probabilities = _probabilities(dataset, set())
    with pytest.raises(ValueError, match=r"dev: probabilities of shapes \(80, 4\) and \(79, 4\) for 80 rows"):
        paired_comparison("dev", dataset, probabilities, probabilities[:-1])
