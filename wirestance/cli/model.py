"""Subcommands: train, evaluate, classify, explain, models (the stance model)."""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from wirestance.cli import CliError
from wirestance.settings import Settings

if TYPE_CHECKING:  # the classifier stack (sklearn) is imported only by the commands that use it
    from wirestance.classifiers.model import EvaluationReport


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a challenger, register it, promote it if the gate passes")
    p.add_argument("--data", help="labelled .jsonl/.csv file, directory, or parquet path (default: labeled_dir)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split, folds and classifier")
    p.add_argument("--eval-fraction", type=float, default=0.2, help="share of articles held out for evaluation")
    p.add_argument("--cv-folds", type=int, default=5, help="grouped cross-validation folds (0: skip)")
    p.set_defaults(handler=_train)

    p = sub.add_parser(
        "evaluate",
        help="score the champion on labelled data: macro-F1 with an article-bootstrap interval, per-label scores, "
        "confusion matrix, per-outlet accuracy, reliability",
    )
    p.add_argument("--data", required=True, help="labelled .jsonl/.csv file, directory, or parquet path")
    p.add_argument("--version", help="score this registered version instead of the champion")
    p.add_argument(
        "--against",
        metavar="VERSION",
        help="also score this registered version on the same rows and show the difference with a paired "
        "article-bootstrap interval, and the paragraphs fixed and broken",
    )
    p.set_defaults(handler=_evaluate)

    p = sub.add_parser(
        "classify",
        help="classify the `text` of each line of a JSONL file with the champion (rows with article_id and "
        "para_index are labelled together as one article)",
    )
    p.add_argument("--in", dest="in_path", required=True, metavar="IN.jsonl")
    p.add_argument("--out", dest="out_path", required=True, metavar="OUT.jsonl")
    p.set_defaults(handler=_classify)

    p = sub.add_parser("explain", help="classify one paragraph and show the features behind the label")
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--top", type=int, default=10, help="how many features to show")
    p.set_defaults(handler=_explain)

    p = sub.add_parser("models", help="list registered model versions, promote one, or roll the champion back")
    models = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    models.add_parser("list", help="every version, oldest first, with its scores").set_defaults(handler=_models_list)
    promote = models.add_parser("promote", help="make VERSION the champion")
    promote.add_argument("version", metavar="VERSION")
    promote.set_defaults(handler=_models_promote)
    models.add_parser("rollback", help="make the previous champion the champion again").set_defaults(
        handler=_models_rollback
    )


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Turn errors the user can fix (bad data, bad files, a refused model) into one-line CLI errors."""
    from wirestance.classifiers.dataset import LabeledDataError
    from wirestance.classifiers.jsonl import JsonlInputError
    from wirestance.classifiers.registry import ModelIntegrityError, RegistryError

    try:
        yield
    except (LabeledDataError, JsonlInputError, ModelIntegrityError, RegistryError) as exc:
        raise CliError(str(exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(str(exc)) from exc


def _settings() -> Settings:
    return Settings.from_env()


#: The steps of `train`, as its progress bar counts them (what classifiers.gate.retrain does, in order).
TRAIN_STEPS = ("load and split", "train (and cross-validate)", "compare with the champion", "register and decide")


def _train(args: argparse.Namespace) -> int:
    from wirestance.classifiers.dataset import load_labeled_data
    from wirestance.classifiers.gate import compare_with_champion, real_copy_lines, register_and_decide
    from wirestance.classifiers.model import split_for_evaluation, train_model
    from wirestance.classifiers.registry import ModelRegistry
    from wirestance.cli.progress import print_summary, progress_bar

    settings = _settings()
    data_path = args.data or settings.labeled_dir
    registry = ModelRegistry.from_settings(settings)
    started = time.perf_counter()
    with _user_errors(), progress_bar("train", len(TRAIN_STEPS), "steps") as advance:
        split = split_for_evaluation(load_labeled_data(data_path), args.eval_fraction, args.seed)
        advance()
        trained = train_model(split, cv_folds=args.cv_folds)
        advance()
        comparison = compare_with_champion(trained, split, registry)
        advance()
        outcome = register_and_decide(trained, comparison, registry)
        advance()
    elapsed = time.perf_counter() - started
    split = trained.split
    print(
        f"data: {data_path}: {split['training_rows']} training + {split['evaluation_rows']} evaluation rows "
        f"(split hash {str(split['hash'])[:16]})"
    )
    if trained.cross_validation is not None:
        cv = trained.cross_validation
        print(f"grouped cross-validation ({cv.n_splits} folds by article): macro-F1 {cv.macro_f1:.4f}")
        _print_f1(cv.pooled.per_label_f1.items())
    comparison = outcome.comparison
    print(f"held-out evaluation: challenger macro-F1 {comparison.challenger.macro_f1:.4f}")
    _print_report(comparison.challenger)
    if comparison.champion is not None:
        print(f"champion {comparison.champion_version}: macro-F1 {comparison.champion.macro_f1:.4f}")
    for line in real_copy_lines(comparison):
        print(line)
    for note in comparison.notes:
        print(f"note: {note}")
    print(f"registered {outcome.challenger_version}; {outcome.decision.reason}")
    print(f"champion: {outcome.champion_version}  ({elapsed:.1f} s)")
    print_summary(
        "Trained",
        [
            ("data", data_path),
            ("challenger", outcome.challenger_version),
            ("champion", outcome.champion_version),
            ("held-out macro-F1", f"{comparison.challenger.macro_f1:.4f}"),
            ("models registry", registry.root),
        ],
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from wirestance.classifiers.dataset import load_labeled_data
    from wirestance.classifiers.evaluation import (
        paired_comparison,
        paired_comparison_lines,
        real_copy_report,
        report_lines,
    )
    from wirestance.classifiers.registry import ModelRegistry, load_champion

    settings = _settings()
    with _user_errors():
        dataset = load_labeled_data(args.data)
        registry = ModelRegistry.from_settings(settings)
        # The baseline is loaded first: a version that does not exist stops the command before any scoring.
        baseline = registry.load(args.against) if args.against else None
        model = registry.load(args.version) if args.version else load_champion(settings)
        probabilities = model.predict_dataset(dataset).probabilities
        report = real_copy_report(str(args.data), dataset, probabilities)
        comparison = (
            paired_comparison(str(args.data), dataset, baseline.predict_dataset(dataset).probabilities, probabilities)
            if baseline is not None
            else None
        )
    print(f"model {model.version} on {args.data} ({report.scores.n_rows} rows, {report.n_articles} articles)")
    for line in report_lines(report):
        print(line)
    if comparison is not None and baseline is not None:
        for line in paired_comparison_lines(comparison, baseline.version, model.version):
            print(line)
    return 0


def _models_list(args: argparse.Namespace) -> int:
    from wirestance.classifiers.registry import ModelIntegrityError, ModelRegistry

    registry = ModelRegistry.from_settings(_settings())
    champion = registry.champion_version()
    versions = registry.versions()
    if not versions:
        print(f"no model versions in {registry.root}")
        return 0
    for version in versions:
        try:
            meta = registry.metadata(version)
        except ModelIntegrityError as exc:
            print(f"  {version}  unreadable: {exc}")
            continue
        cv = (meta.metrics.get("cross_validation") or {}).get("macro_f1")
        real = {name: r["macro_f1"] for name, r in (meta.metrics.get("external") or {}).items()}
        scores = [f"held-out {meta.evaluation.macro_f1:.4f}"]
        if cv is not None:
            scores.append(f"CV {cv:.4f}")
        scores += [f"{name} {score:.4f}" for name, score in real.items()]
        marker = "*" if version == champion else " "
        print(f"{marker} {version}  {meta.training_rows} rows  " + ", ".join(scores))
    return 0


def _models_promote(args: argparse.Namespace) -> int:
    from wirestance.classifiers.registry import ModelRegistry

    registry = ModelRegistry.from_settings(_settings())
    with _user_errors():
        registry.promote(args.version)
    print(f"champion: {args.version}")
    return 0


def _models_rollback(args: argparse.Namespace) -> int:
    from wirestance.classifiers.registry import ModelRegistry

    registry = ModelRegistry.from_settings(_settings())
    with _user_errors():
        version = registry.rollback()
    print(f"champion rolled back to {version}")
    return 0


def _classify(args: argparse.Namespace) -> int:
    from wirestance.classifiers.jsonl import classify_jsonl
    from wirestance.classifiers.registry import load_champion

    with _user_errors():
        model = load_champion(_settings())
        count = classify_jsonl(args.in_path, args.out_path, model)
    print(f"classified {count} paragraphs with {model.version} -> {args.out_path}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from wirestance.classifiers.registry import load_champion

    with _user_errors():
        model = load_champion(_settings())
    explanation = model.explain(args.text, top=args.top)
    print(f"{explanation.label} (confidence {explanation.confidence:.3f}, model {model.version})")
    print("probabilities: " + ", ".join(f"{k} {v:.3f}" for k, v in explanation.probabilities.items()))
    # The probabilities are the whole model's; the weights are its linear members' mean (the network member
    # has no weight per feature to show).
    print(f"features pushing towards {explanation.label} (weights of the linear members):")
    for feature in explanation.features:
        print(f"  {feature.weight:+.4f}  {feature.feature}")
    return 0


def _print_report(report: EvaluationReport) -> None:
    print(f"  {'label':<20} {'precision':>9} {'recall':>7} {'F1':>7} {'support':>7}")
    for label, s in report.per_label.items():
        print(f"  {label:<20} {s.precision:>9.4f} {s.recall:>7.4f} {s.f1:>7.4f} {s.support:>7}")


def _print_f1(per_label_f1: Iterable[tuple[str, float]]) -> None:
    for label, f1 in per_label_f1:
        print(f"  {label:<20} F1 {f1:.4f}")
