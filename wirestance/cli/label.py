"""Subcommands: label export | import | issues (the labelling loop that retraining learns from)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from wirestance.cli import CliError
from wirestance.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("label", help="export paragraphs for review, import reviewed labels, list likely label errors")
    actions = p.add_subparsers(dest="label_command", required=True, metavar="ACTION")

    export = actions.add_parser(
        "export", help="write the stored paragraphs the model is least sure of as DIR/review.csv and review.jsonl"
    )
    export.add_argument("--since", required=True, type=date.fromisoformat, help="first publication date (YYYY-MM-DD)")
    export.add_argument("--until", required=True, type=date.fromisoformat, help="end date, exclusive (YYYY-MM-DD)")
    export.add_argument("--n", type=int, default=200, help="how many paragraphs (default 200)")
    export.add_argument("--out", required=True, metavar="DIR")
    export.set_defaults(handler=_export)

    imp = actions.add_parser("import", help="validate reviewed rows (CSV or JSONL) and add them to labeled_dir")
    imp.add_argument("file", metavar="FILE")
    imp.set_defaults(handler=_import)

    issues = actions.add_parser(
        "issues", help="rows of the labelled data most likely mislabelled (confident learning on grouped CV)"
    )
    issues.add_argument("--data", help="labelled data (default: labeled_dir)")
    issues.add_argument("--top", type=int, default=40, help="how many rows to list")
    issues.add_argument("--folds", type=int, default=5, help="cross-validation folds by article")
    issues.set_defaults(handler=_issues)


def _export(args: argparse.Namespace) -> int:
    from wirestance.classifiers.labelling import export_for_review
    from wirestance.lake import Lake

    if args.n < 1:
        raise CliError("--n must be at least 1")
    settings = Settings.from_env()
    try:
        count = export_for_review(Lake(settings.lake_url), args.since, args.until, args.n, args.out)
    except (ValueError, OSError) as exc:
        raise CliError(str(exc)) from exc
    out = Path(args.out)
    print(f"wrote {count} paragraphs to review: {out / 'review.csv'} and {out / 'review.jsonl'}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from wirestance.classifiers.dataset import LabeledDataError, load_labeled_data
    from wirestance.classifiers.labelling import import_reviewed

    settings = Settings.from_env()
    try:
        yardstick = load_labeled_data(settings.dev_set).texts if settings.dev_set else []
        result = import_reviewed(args.file, settings.labeled_dir, yardstick)
    except LabeledDataError as exc:
        raise CliError(str(exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(str(exc)) from exc
    where = f" -> {result.written_to}" if result.written_to else ""
    print(
        f"added {result.added} labelled paragraphs{where}; {result.already_labelled} already labelled the same way, "
        f"{result.not_reviewed} without a label (not reviewed)"
    )
    return 0


def _issues(args: argparse.Namespace) -> int:
    from wirestance.classifiers.dataset import LabeledDataError, load_labeled_data
    from wirestance.classifiers.labelling import find_label_issues
    from wirestance.classifiers.model import cross_validate

    settings = Settings.from_env()
    path = args.data or settings.labeled_dir
    try:
        dataset = load_labeled_data(path)
        cv = cross_validate(dataset, n_splits=args.folds)
    except LabeledDataError as exc:
        raise CliError(str(exc)) from exc
    assert cv.probabilities is not None
    issues = find_label_issues(dataset, cv.probabilities)
    print(
        f"{len(issues)} of {len(dataset)} rows look mislabelled "
        f"(grouped CV macro-F1 {cv.macro_f1:.4f}); top {args.top}:"
    )
    for issue in issues[: args.top]:
        print(
            f"- {issue.location}: given {issue.given} ({issue.given_probability:.2f}), model says "
            f"{issue.suggested} ({issue.suggested_probability:.2f}): {issue.text[:160]}"
        )
    return 0
