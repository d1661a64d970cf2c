"""The summary a Prefect run leaves as a markdown artifact: per-side shares per agency and the report's path."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from wirestance.lake.schema import STANCE_LABELS
from wirestance.report.shares import LABEL_NAMES, LOW_CONFIDENCE, StanceSummary


def shares_markdown(summary: StanceSummary, title: str, report: Path | str | None = None) -> str:
    """A heading, one table row per agency (and all together) with each side's share, and the report."""
    lines = [f"# {title}", ""]
    if summary.empty:
        lines.append("No labelled paragraphs of on-topic articles in this window.")
    else:
        lines.append(
            f"{summary.n_articles} articles, {summary.n_paragraphs} paragraphs; "
            f"{summary.low_confidence_share:.0%} of the paragraphs are low-confidence "
            f"(under {LOW_CONFIDENCE:.0%}); model {', '.join(summary.model_versions)}."
        )
        lines += [
            "",
            "| agency | articles | paragraphs | " + " | ".join(LABEL_NAMES[label] for label in STANCE_LABELS) + " |",
            "|:--|--:|--:|" + "--:|" * len(STANCE_LABELS),
        ]
        for row in summary.overall_shares().to_dict("records"):
            shares = " | ".join(f"{row[label]:.0%}" for label in STANCE_LABELS)
            lines.append(f"| {row['source']} | {row['articles']} | {row['paragraphs']} | {shares} |")
    if report is not None:
        path = Path(report)
        link = path.resolve().as_uri() if path.is_absolute() or path.exists() else str(path)
        lines += ["", f"Report with charts per {summary.by}: [{path.name}]({link}) (`{path}`)"]
    return "\n".join(lines) + "\n"


def stance_summary_for_days(
    lake_url: str,
    reports_dir: str | Path,
    first_day: date,
    last_day: date,
    sources: Sequence[str],
    *,
    title: str,
    by: str = "week",
) -> str:
    """Write the HTML report of the days (both included) into `reports_dir` and return the markdown
    summary that points to it: what a flow run leaves as its artifact."""
    from wirestance.report.data import load_paragraphs
    from wirestance.report.page import write_report
    from wirestance.report.shares import summarize

    summary = summarize(load_paragraphs(lake_url, first_day, last_day, sources), by, first_day, last_day)  # type: ignore[arg-type]
    files = write_report(summary, reports_dir, png=False)
    return shares_markdown(summary, title, files.html)
