"""Scoring on labelled real copy: macro-F1 with an article bootstrap interval, per-label scores, the
confusion matrix, per-outlet accuracy, and how honest the confidences are (reliability table, ECE); and two
models compared on the same rows, with an interval for their difference.

Paragraphs of one article are not independent draws (one speaker, one house style, one topic), so the
intervals resample whole articles, never paragraphs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wirestance.classifiers.dataset import LabeledDataset
from wirestance.classifiers.labels import LABELS
from wirestance.classifiers.model import EvaluationReport, score_predictions

BOOTSTRAP_SAMPLES = 2000
CONFIDENCE_LEVEL = 0.95
RELIABILITY_BINS = (0.25, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
#: Below this many articles a resample draws nearly the same few articles every time: the paired interval is
#: shown but says nothing about chance.
MIN_ARTICLES_FOR_VERDICT = 10


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    mean_confidence: float
    accuracy: float


@dataclass(frozen=True)
class RealCopyReport:
    """Everything `wirestance evaluate` prints and the model card shows for one labelled set."""

    name: str
    scores: EvaluationReport
    macro_f1_interval: tuple[float, float]
    n_articles: int
    #: outlet -> (paragraphs, correct)
    per_outlet: Mapping[str, tuple[int, int]]
    reliability: tuple[ReliabilityBin, ...]
    expected_calibration_error: float

    @property
    def macro_f1(self) -> float:
        return self.scores.macro_f1

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.scores.to_dict(),
            "macro_f1_interval": list(self.macro_f1_interval),
            "n_articles": self.n_articles,
            "per_outlet": {outlet: list(counts) for outlet, counts in self.per_outlet.items()},
            "reliability": [bin_.__dict__ for bin_ in self.reliability],
            "expected_calibration_error": self.expected_calibration_error,
        }

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> RealCopyReport:
        return cls(
            name=name,
            scores=EvaluationReport.from_dict(data),
            macro_f1_interval=tuple(data.get("macro_f1_interval") or (float("nan"), float("nan"))),  # type: ignore[arg-type]
            n_articles=int(data.get("n_articles", 0)),
            per_outlet={k: (int(v[0]), int(v[1])) for k, v in (data.get("per_outlet") or {}).items()},
            reliability=tuple(ReliabilityBin(**b) for b in data.get("reliability") or ()),
            expected_calibration_error=float(data.get("expected_calibration_error", float("nan"))),
        )


def real_copy_report(
    name: str,
    dataset: LabeledDataset,
    probabilities: NDArray[np.float64],
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> RealCopyReport:
    gold = dataset.labels
    best = probabilities.argmax(axis=1)
    predicted = [LABELS[i] for i in best]
    confidence = probabilities[np.arange(len(best)), best]
    correct = np.array([g == p for g, p in zip(gold, predicted, strict=True)], dtype=bool)
    outlets: dict[str, list[bool]] = defaultdict(list)
    for row, hit in zip(dataset.rows, correct, strict=True):
        outlets[row.outlet or "(unknown)"].append(bool(hit))
    bins, ece = reliability_table(confidence, correct)
    return RealCopyReport(
        name=name,
        scores=score_predictions(gold, predicted),
        macro_f1_interval=article_bootstrap_interval(gold, predicted, dataset.groups, samples=samples, seed=seed),
        n_articles=len(set(dataset.groups)),
        per_outlet={outlet: (len(hits), sum(hits)) for outlet, hits in sorted(outlets.items())},
        reliability=bins,
        expected_calibration_error=ece,
    )


def article_bootstrap_interval(
    gold: Sequence[str],
    predicted: Sequence[str],
    groups: Sequence[str],
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    level: float = CONFIDENCE_LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of macro-F1 over `samples` resamples of whole articles (with replacement)."""
    gold_index = _label_indices(gold)
    predicted_index = _label_indices(predicted)
    values = [_macro_f1(gold_index[rows], predicted_index[rows]) for rows in _article_resamples(groups, samples, seed)]
    return _percentile_interval(values, level)


@dataclass(frozen=True)
class PairedComparison:
    """Two models' predictions on the same labelled rows: a candidate against a baseline.

    The interval is of the difference in macro-F1, each bootstrap draw scoring both models on the same
    resampled articles: the two models share most of their errors, so the paired interval is much narrower
    than the two separate ones, and it says whether a difference is more than the draw of articles."""

    name: str
    n_rows: int
    n_articles: int
    baseline_macro_f1: float
    candidate_macro_f1: float
    difference_interval: tuple[float, float]
    #: Paragraphs the candidate labels right and the baseline wrong, and the other way round.
    fixed: int
    broken: int
    #: Candidate minus baseline F1 per label present in the rows.
    label_f1_changes: Mapping[str, float]

    @property
    def difference(self) -> float:
        return self.candidate_macro_f1 - self.baseline_macro_f1

    @property
    def within_chance(self) -> bool:
        """True when the interval of the difference holds zero, or the rows are too few articles for an
        interval: the rows cannot tell the models apart."""
        low, high = self.difference_interval
        return self.n_articles < MIN_ARTICLES_FOR_VERDICT or low <= 0.0 <= high

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_rows": self.n_rows,
            "n_articles": self.n_articles,
            "baseline_macro_f1": self.baseline_macro_f1,
            "candidate_macro_f1": self.candidate_macro_f1,
            "difference": self.difference,
            "difference_interval": list(self.difference_interval),
            "fixed": self.fixed,
            "broken": self.broken,
            "label_f1_changes": dict(self.label_f1_changes),
        }


def paired_comparison(
    name: str,
    dataset: LabeledDataset,
    baseline: NDArray[np.float64],
    candidate: NDArray[np.float64],
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    level: float = CONFIDENCE_LEVEL,
    seed: int = 0,
) -> PairedComparison:
    """Compare two models' probabilities (rows in `dataset`'s order, columns in LABELS order) on its rows."""
    if baseline.shape != candidate.shape or baseline.shape[0] != len(dataset):
        raise ValueError(
            f"{name}: probabilities of shapes {baseline.shape} and {candidate.shape} for {len(dataset)} rows"
        )
    gold_index = _label_indices(dataset.labels)
    baseline_index = baseline.argmax(axis=1)
    candidate_index = candidate.argmax(axis=1)
    differences = [
        _macro_f1(gold_index[rows], candidate_index[rows]) - _macro_f1(gold_index[rows], baseline_index[rows])
        for rows in _article_resamples(dataset.groups, samples, seed)
    ]
    baseline_scores = score_predictions(dataset.labels, [LABELS[i] for i in baseline_index])
    candidate_scores = score_predictions(dataset.labels, [LABELS[i] for i in candidate_index])
    baseline_right = baseline_index == gold_index
    candidate_right = candidate_index == gold_index
    return PairedComparison(
        name=name,
        n_rows=len(dataset),
        n_articles=len(set(dataset.groups)),
        baseline_macro_f1=baseline_scores.macro_f1,
        candidate_macro_f1=candidate_scores.macro_f1,
        difference_interval=_percentile_interval(differences, level),
        fixed=int((candidate_right & ~baseline_right).sum()),
        broken=int((baseline_right & ~candidate_right).sum()),
        label_f1_changes={
            label: candidate_scores.per_label[label].f1 - scores.f1
            for label, scores in baseline_scores.per_label.items()
            if scores.support > 0
        },
    )


def paired_comparison_lines(comparison: PairedComparison, baseline: str, candidate: str) -> list[str]:
    """Plain-text lines for the CLI and the retrain flow's decision."""
    low, high = comparison.difference_interval
    if comparison.n_articles < MIN_ARTICLES_FOR_VERDICT:
        verdict = f"too few articles for the interval to judge chance (fewer than {MIN_ARTICLES_FOR_VERDICT})"
    elif comparison.within_chance:
        verdict = "within chance: these rows cannot tell the two apart"
    else:
        verdict = ("better" if comparison.difference > 0 else "worse") + " beyond the draw of articles"
    changes = ", ".join(f"{label} {change:+.4f}" for label, change in comparison.label_f1_changes.items())
    return [
        f"{candidate} against {baseline} on {comparison.name}: macro-F1 {comparison.candidate_macro_f1:.4f} vs "
        f"{comparison.baseline_macro_f1:.4f}, difference {comparison.difference:+.4f} (paired 95% interval "
        f"{low:+.4f} to {high:+.4f} over {comparison.n_articles} articles): {verdict}",
        f"  of {comparison.n_rows} paragraphs {comparison.fixed} fixed, {comparison.broken} broken; F1 per label: "
        f"{changes}",
    ]


def _label_indices(labels: Sequence[str]) -> NDArray[np.int_]:
    return np.array([LABELS.index(label) for label in labels], dtype=np.int_)


def _article_resamples(groups: Sequence[str], samples: int, seed: int) -> Iterator[NDArray[np.int_]]:
    """Row positions of `samples` resamples of whole articles (drawn with replacement, as many as there are)."""
    by_group: dict[str, list[int]] = defaultdict(list)
    for position, group in enumerate(groups):
        by_group[group].append(position)
    members = [np.array(positions, dtype=np.int_) for positions in by_group.values()]
    rng = np.random.default_rng(seed)
    for _sample in range(samples):
        yield np.concatenate([members[i] for i in rng.integers(0, len(members), len(members))])


def _percentile_interval(values: Sequence[float], level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2
    return float(np.quantile(values, tail)), float(np.quantile(values, 1.0 - tail))


def _macro_f1(gold: NDArray[np.int_], predicted: NDArray[np.int_]) -> float:
    """Macro-F1 over the labels present in `gold` (as score_predictions), vectorised for the bootstrap."""
    matrix = np.zeros((len(LABELS), len(LABELS)))
    np.add.at(matrix, (gold, predicted), 1)
    true_positive = np.diag(matrix)
    support = matrix.sum(axis=1)
    predicted_count = matrix.sum(axis=0)
    denominator = support + predicted_count
    f1 = np.divide(2 * true_positive, denominator, out=np.zeros_like(true_positive), where=denominator > 0)
    present = support > 0
    return float(f1[present].mean()) if present.any() else 0.0


def reliability_table(
    confidence: NDArray[np.float64], correct: NDArray[np.bool_], edges: Sequence[float] = RELIABILITY_BINS
) -> tuple[tuple[ReliabilityBin, ...], float]:
    """Bins of predicted confidence against observed accuracy, and the expected calibration error (the
    paragraph-weighted mean gap between the two)."""
    bins = []
    gap = 0.0
    low = 0.0
    for high in edges:
        inside = (confidence > low) & (confidence <= high) if low > 0 else (confidence <= high)
        count = int(inside.sum())
        if count:
            mean_confidence = float(confidence[inside].mean())
            accuracy = float(correct[inside].mean())
            gap += count * abs(mean_confidence - accuracy)
            bins.append(ReliabilityBin(low, high, count, mean_confidence, accuracy))
        low = high
    total = len(confidence)
    return tuple(bins), (gap / total if total else 0.0)


def report_lines(report: RealCopyReport) -> list[str]:
    """Plain-text lines for the CLI."""
    low, high = report.macro_f1_interval
    s = report.scores
    lines = [
        f"macro-F1 {s.macro_f1:.4f} (95% interval {low:.4f}-{high:.4f}, bootstrap over {report.n_articles} "
        f"articles) on {s.n_rows} paragraphs",
        f"  {'label':<20} {'precision':>9} {'recall':>7} {'F1':>7} {'support':>7}",
    ]
    for label, scores in s.per_label.items():
        lines.append(
            f"  {label:<20} {scores.precision:>9.4f} {scores.recall:>7.4f} {scores.f1:>7.4f} {scores.support:>7}"
        )
    lines.append("confusion matrix (rows: gold, columns: predicted " + ", ".join(LABELS) + "):")
    for label, counts in zip(LABELS, s.confusion, strict=True):
        lines.append(f"  {label:<20} " + " ".join(f"{c:>5}" for c in counts))
    lines.append("accuracy per outlet:")
    for outlet, (n, hits) in report.per_outlet.items():
        lines.append(f"  {outlet:<28} {hits:>4}/{n:<4} {hits / n:.3f}")
    lines.append(f"reliability (expected calibration error {report.expected_calibration_error:.4f}):")
    for b in report.reliability:
        lines.append(
            f"  confidence {b.low:.2f}-{b.high:.2f}: {b.count:>4} paragraphs, mean confidence "
            f"{b.mean_confidence:.3f}, accuracy {b.accuracy:.3f}"
        )
    return lines
