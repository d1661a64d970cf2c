"""Champion/challenger gate: a challenger replaces the champion only if it is better overall and no label
gets noticeably worse, both measured on the same evaluation rows."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from wirestance.classifiers.dataset import load_labeled_data
from wirestance.classifiers.evaluation import PairedComparison, paired_comparison, paired_comparison_lines
from wirestance.classifiers.labels import LABELS
from wirestance.classifiers.model import (
    CV_FOLDS,
    DEFAULT_EVAL_FRACTION,
    DEFAULT_SEED,
    EvaluationReport,
    EvaluationSplit,
    TrainedModel,
    score_predictions,
    split_for_evaluation,
    train_model,
)
from wirestance.classifiers.predict import StanceModel
from wirestance.classifiers.registry import (
    ModelRegistry,
    RealCopyPredictions,
    external_predictions,
    training_fingerprint,
)

DEFAULT_MIN_MACRO_F1_GAIN = 0.005
DEFAULT_MAX_LABEL_F1_DROP = 0.02
# Scores are means of a few hundred 0/1 outcomes; a difference below this is float noise, not a change.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str
    #: Challenger macro-F1 minus champion macro-F1; None without a champion.
    macro_f1_gain: float | None = None
    #: Challenger minus champion F1 per label present in the evaluation rows.
    label_f1_changes: dict[str, float] = field(default_factory=dict)


def decide_promotion(
    challenger: EvaluationReport,
    champion: EvaluationReport | None,
    *,
    min_macro_f1_gain: float = DEFAULT_MIN_MACRO_F1_GAIN,
    max_label_f1_drop: float = DEFAULT_MAX_LABEL_F1_DROP,
) -> GateDecision:
    if champion is None:
        return GateDecision(True, "no champion yet: the challenger becomes the first champion")
    gain = challenger.macro_f1 - champion.macro_f1
    changes = {
        label: challenger.per_label[label].f1 - champion.per_label[label].f1
        for label, scores in challenger.per_label.items()
        if scores.support > 0
    }
    drops = {label: change for label, change in changes.items() if change < -max_label_f1_drop - _TOLERANCE}
    if drops:
        listed = ", ".join(f"{label} {change:+.4f}" for label, change in sorted(drops.items()))
        reason = f"refused: F1 fell by more than {max_label_f1_drop:.4f} for {listed} (macro-F1 {gain:+.4f})"
        return GateDecision(False, reason, gain, changes)
    if gain < min_macro_f1_gain - _TOLERANCE:
        reason = (
            f"refused: macro-F1 {challenger.macro_f1:.4f} vs champion {champion.macro_f1:.4f} "
            f"({gain:+.4f}) is below the required gain of {min_macro_f1_gain:.4f}"
        )
        return GateDecision(False, reason, gain, changes)
    reason = (
        f"promoted: macro-F1 {challenger.macro_f1:.4f} vs champion {champion.macro_f1:.4f} ({gain:+.4f}, "
        f">= {min_macro_f1_gain:.4f}) and no label's F1 fell by more than {max_label_f1_drop:.4f}"
    )
    return GateDecision(True, reason, gain, changes)


# --- the champion/challenger sequence (the retrain flow runs these steps as tasks) -----------------


@dataclass(frozen=True)
class ChampionComparison:
    """Challenger and champion scored on the same evaluation rows (`split_hash`)."""

    split_hash: str
    challenger: EvaluationReport
    champion_version: str | None
    champion: EvaluationReport | None
    #: Caveats a reader of the decision must know, e.g. a champion trained with another split.
    notes: tuple[str, ...] = ()
    #: Macro-F1 on labelled real copy (dev set, data/eval), name -> score, beside the split's scores.
    challenger_real_copy: Mapping[str, float] = field(default_factory=dict)
    champion_real_copy: Mapping[str, float] = field(default_factory=dict)
    #: Per real-copy set, the challenger against the champion on the same rows: the difference with a
    #: paired article-bootstrap interval, so a reader sees whether it is more than the draw of articles.
    #: Reported beside the decision, not part of it: the real copy is a yardstick, never a training signal.
    real_copy_comparisons: Mapping[str, PairedComparison] = field(default_factory=dict)


@dataclass(frozen=True)
class RetrainOutcome:
    comparison: ChampionComparison
    decision: GateDecision
    challenger_version: str
    promoted: bool
    #: The champion after the decision.
    champion_version: str | None


def compare_with_champion(trained: TrainedModel, split: EvaluationSplit, registry: ModelRegistry) -> ChampionComparison:
    challenger = StanceModel(trained.pipeline, "challenger").evaluate(split.evaluation)
    challenger_predictions = external_predictions(trained.pipeline, registry.eval_dir, registry.dev_set)
    challenger_real = _real_copy_macro_f1(challenger_predictions)
    champion_version = registry.champion_version()
    if champion_version is None:
        return ChampionComparison(split.hash, challenger, None, None, challenger_real_copy=challenger_real)
    # A tampered or unreadable champion raises here: better a failed run than silently replacing it.
    champion_model = registry.load(champion_version)
    champion_split = registry.metadata(champion_version).evaluation_split
    notes: tuple[str, ...] = ()
    if (champion_split.get("fraction"), champion_split.get("seed")) != (split.fraction, split.seed):
        notes = (
            f"champion {champion_version} was trained with eval_fraction={champion_split.get('fraction')}, "
            f"seed={champion_split.get('seed')}; it may have seen some of these evaluation rows",
        )
    champion_predictions = external_predictions(champion_model.article_model, registry.eval_dir, registry.dev_set)
    comparisons = {
        name: paired_comparison(name, found.dataset, champion_predictions[name].probabilities, found.probabilities)
        for name, found in challenger_predictions.items()
        if name in champion_predictions
    }
    return ChampionComparison(
        split.hash,
        challenger,
        champion_version,
        champion_model.evaluate(split.evaluation),
        notes,
        challenger_real,
        _real_copy_macro_f1(champion_predictions),
        comparisons,
    )


def real_copy_lines(comparison: ChampionComparison) -> list[str]:
    """Per real-copy set: the challenger's macro-F1, and against the champion the difference with its paired
    interval and the paragraphs fixed and broken (plain text, for the CLI and the retrain flow)."""
    lines: list[str] = []
    for name, score in comparison.challenger_real_copy.items():
        paired = comparison.real_copy_comparisons.get(name)
        if paired is None:
            lines.append(f"real copy `{name}` (articles labelled whole): challenger macro-F1 {score:.4f}")
            continue
        lines += paired_comparison_lines(paired, f"champion {comparison.champion_version}", "challenger")
    return lines


def _real_copy_macro_f1(predictions: Mapping[str, RealCopyPredictions]) -> dict[str, float]:
    return {
        name: score_predictions(found.dataset.labels, [LABELS[i] for i in found.probabilities.argmax(axis=1)]).macro_f1
        for name, found in predictions.items()
    }


def register_and_decide(
    trained: TrainedModel,
    comparison: ChampionComparison,
    registry: ModelRegistry,
    *,
    min_macro_f1_gain: float = DEFAULT_MIN_MACRO_F1_GAIN,
    max_label_f1_drop: float = DEFAULT_MAX_LABEL_F1_DROP,
) -> RetrainOutcome:
    """Register the challenger (always, so a refused one can still be inspected) and promote it if the
    gate says so. A challenger trained exactly like a registered version (same data, seed, split and model
    format) registers nothing and changes nothing."""
    existing = registry.find_fingerprint(training_fingerprint(trained))
    if existing is not None:
        reason = (
            f"unchanged: version {existing.version} was trained on the same data with the same seed and split; "
            "nothing registered"
        )
        return RetrainOutcome(
            comparison, GateDecision(False, reason), existing.version, False, registry.champion_version()
        )
    decision = decide_promotion(
        comparison.challenger,
        comparison.champion,
        min_macro_f1_gain=min_macro_f1_gain,
        max_label_f1_drop=max_label_f1_drop,
    )
    meta = registry.register(trained, comparison.challenger)
    promoted = decision.promote and registry.replace_champion(meta.version, expected=comparison.champion_version)
    if decision.promote and not promoted:
        decision = replace(
            decision,
            promote=False,
            reason=f"refused: the champion changed from {comparison.champion_version} during this run",
        )
    return RetrainOutcome(comparison, decision, meta.version, promoted, registry.champion_version())


def retrain(
    data_path: str | os.PathLike[str],
    registry: ModelRegistry,
    *,
    eval_fraction: float = DEFAULT_EVAL_FRACTION,
    seed: int = DEFAULT_SEED,
    min_macro_f1_gain: float = DEFAULT_MIN_MACRO_F1_GAIN,
    max_label_f1_drop: float = DEFAULT_MAX_LABEL_F1_DROP,
    cv_folds: int = CV_FOLDS,
) -> tuple[TrainedModel, RetrainOutcome]:
    """Load and validate, train a challenger, compare it with the champion, register, promote per gate."""
    split = split_for_evaluation(load_labeled_data(data_path), eval_fraction, seed)
    trained = train_model(split, cv_folds=cv_folds)
    comparison = compare_with_champion(trained, split, registry)
    outcome = register_and_decide(
        trained,
        comparison,
        registry,
        min_macro_f1_gain=min_macro_f1_gain,
        max_label_f1_drop=max_label_f1_drop,
    )
    return trained, outcome
