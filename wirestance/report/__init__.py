"""What the analyst sees: per-period, per-side shares of the coverage read from the lake, as an HTML page
with charts (Vega-Altair), the same charts as PNG, a markdown summary for Prefect artifacts, and flat exports.

Plain code: flows and the CLI call it; it reads the lake only through `Lake.read`.
"""

from wirestance.report.data import EXPORT_COLUMNS, WINDOW_RULE, load_paragraphs
from wirestance.report.export import EXPORT_FORMATS, write_export
from wirestance.report.markdown import shares_markdown, stance_summary_for_days
from wirestance.report.page import ReportFiles, write_report
from wirestance.report.shares import PERIODS, StanceSummary, summarize

__all__ = [
    "EXPORT_COLUMNS",
    "EXPORT_FORMATS",
    "PERIODS",
    "WINDOW_RULE",
    "ReportFiles",
    "StanceSummary",
    "load_paragraphs",
    "shares_markdown",
    "stance_summary_for_days",
    "summarize",
    "write_export",
    "write_report",
]
