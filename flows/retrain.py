"""The `retrain` flow: validate labelled data, train a challenger, score it and the champion on the same
frozen evaluation split, promote per the gate, and publish the comparison as artifacts.

Each task is a thin wrapper over a plain function in classifiers/; bad data fails the first task, before
anything touches the registry.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from wirestance.classifiers.dataset import load_labeled_data
from wirestance.classifiers.gate import (
    DEFAULT_MAX_LABEL_F1_DROP,
    DEFAULT_MIN_MACRO_F1_GAIN,
    ChampionComparison,
    RetrainOutcome,
    compare_with_champion,
    real_copy_lines,
    register_and_decide,
)
from wirestance.classifiers.labels import LABELS
from wirestance.classifiers.model import (
    DEFAULT_EVAL_FRACTION,
    DEFAULT_SEED,
    EvaluationReport,
    EvaluationSplit,
    TrainedModel,
    split_for_evaluation,
    train_model,
)
from wirestance.classifiers.registry import ModelRegistry, confusion_table, scores_table
from wirestance.settings import Settings


# Inputs are datasets and fitted pipelines: hashing them for a cache key is slow and pointless.
@task(name="load-and-validate", cache_policy=NO_CACHE)
def load_task(data_path: str, eval_fraction: float, seed: int) -> EvaluationSplit:
    split = split_for_evaluation(load_labeled_data(data_path), eval_fraction, seed)
    get_run_logger().info(
        "%s: %d training rows, %d evaluation rows (split hash %s)",
        data_path,
        len(split.train),
        len(split.evaluation),
        split.hash,
    )
    return split


@task(name="train-challenger", cache_policy=NO_CACHE)
def train_task(split: EvaluationSplit) -> TrainedModel:
    trained = train_model(split)
    if trained.cross_validation is not None:
        get_run_logger().info("grouped CV macro-F1 %.4f", trained.cross_validation.macro_f1)
    return trained


@task(name="evaluate-challenger-and-champion", cache_policy=NO_CACHE)
def evaluate_task(trained: TrainedModel, split: EvaluationSplit, models_dir: str) -> ChampionComparison:
    return compare_with_champion(trained, split, _registry(models_dir))


@task(name="decide-and-promote", cache_policy=NO_CACHE)
def decide_task(
    trained: TrainedModel,
    comparison: ChampionComparison,
    models_dir: str,
    min_macro_f1_gain: float,
    max_label_f1_drop: float,
) -> RetrainOutcome:
    outcome = register_and_decide(
        trained,
        comparison,
        _registry(models_dir),
        min_macro_f1_gain=min_macro_f1_gain,
        max_label_f1_drop=max_label_f1_drop,
    )
    get_run_logger().info("%s: %s", outcome.challenger_version, outcome.decision.reason)
    return outcome


@flow(name="retrain", log_prints=True)
def retrain(
    data_path: str | None = None,
    min_macro_f1_gain: float = DEFAULT_MIN_MACRO_F1_GAIN,
    max_label_f1_drop: float = DEFAULT_MAX_LABEL_F1_DROP,
    eval_fraction: float = DEFAULT_EVAL_FRACTION,
    seed: int = DEFAULT_SEED,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Retrain on `data_path` (default: labeled_dir; a file, a directory or a parquet lake path) and promote
    the challenger only if it beats the champion by the gate's margins. `settings` default to the
    environment (WIRESTANCE_*)."""
    settings = settings or Settings.from_env()
    path = data_path or settings.labeled_dir
    split = load_task(path, eval_fraction, seed)
    trained = train_task(split)
    comparison = evaluate_task(trained, split, settings.models_dir)
    outcome = decide_task(trained, comparison, settings.models_dir, min_macro_f1_gain, max_label_f1_drop)
    create_table_artifact(
        key="retrain-scores",
        table=_scores_rows(comparison),
        description=f"Per-label scores on evaluation split {split.hash[:16]}",
    )
    create_markdown_artifact(
        key="retrain-decision",
        markdown=_decision_markdown(path, split, trained, outcome),
        description=f"Challenger {outcome.challenger_version}: {'promoted' if outcome.promoted else 'refused'}",
    )
    return {
        "challenger_version": outcome.challenger_version,
        "promoted": outcome.promoted,
        "champion_version": outcome.champion_version,
        "reason": outcome.decision.reason,
        "evaluation_split_hash": split.hash,
        "challenger_macro_f1": comparison.challenger.macro_f1,
        "champion_macro_f1": comparison.champion.macro_f1 if comparison.champion else None,
        "challenger_real_copy_macro_f1": dict(comparison.challenger_real_copy),
        "real_copy_comparisons": {name: c.to_dict() for name, c in comparison.real_copy_comparisons.items()},
    }


def _registry(models_dir: str) -> ModelRegistry:
    """The registry with the settings' real-copy sets (data/eval, the dev set) scored on every challenger."""
    settings = Settings.from_env()
    return ModelRegistry(models_dir, settings.eval_dir, settings.dev_set or None)


def _scores_rows(comparison: ChampionComparison) -> list[dict[str, Any]]:
    reports: list[tuple[str, EvaluationReport]] = [("challenger", comparison.challenger)]
    if comparison.champion is not None:
        reports.append((f"champion {comparison.champion_version}", comparison.champion))
    rows = []
    for label in LABELS:
        for model, report in reports:
            scores = report.per_label[label]
            rows.append(
                {
                    "label": label,
                    "model": model,
                    "precision": round(scores.precision, 4),
                    "recall": round(scores.recall, 4),
                    "f1": round(scores.f1, 4),
                    "support": scores.support,
                }
            )
    return rows


def _decision_markdown(path: str, split: EvaluationSplit, trained: TrainedModel, outcome: RetrainOutcome) -> str:
    comparison = outcome.comparison
    verdict = "promoted" if outcome.promoted else "not promoted"
    lines = [
        f"# Retrain: challenger {outcome.challenger_version} {verdict}",
        "",
        f"**Decision:** {outcome.decision.reason}",
        "",
        f"- data: `{path}` ({len(split.train)} training rows, {len(split.evaluation)} evaluation rows)",
        f"- evaluation split hash: `{split.hash}` (fraction {split.fraction}, seed {split.seed})",
        f"- champion now: `{outcome.champion_version}`",
    ]
    if trained.cross_validation is not None:
        cv = trained.cross_validation
        lines.append(f"- challenger grouped CV ({cv.n_splits} folds by article): macro-F1 {cv.macro_f1:.4f}")
    lines += [f"- {line.strip()}" for line in real_copy_lines(comparison)]
    lines += [f"- note: {note}" for note in comparison.notes]
    sections: list[tuple[str, EvaluationReport]] = [("Challenger", comparison.challenger)]
    if comparison.champion is not None:
        sections.append((f"Champion {comparison.champion_version}", comparison.champion))
    for title, report in sections:
        lines += [
            "",
            f"## {title}: macro-F1 {report.macro_f1:.4f}",
            "",
            *scores_table(report),
            "",
            "Confusion matrix (rows: gold, columns: predicted):",
            "",
            *confusion_table(report),
        ]
    return "\n".join(lines) + "\n"
