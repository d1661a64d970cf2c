"""The report's charts, as Vega-Altair specifications (rendered in the browser by vega-embed, to PNG by
vl-convert)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from wirestance.lake.schema import STANCE_LABELS
from wirestance.report.shares import ALL_AGENCIES, LABEL_NAMES, StanceSummary

#: One colour per side, the same in every chart; "no side" stays grey so the sides stand out.
SIDE_COLOURS = {
    "russian_supplier": "#c0392b",
    "turkish_government": "#2471a3",
    "us_objection": "#239b56",
    "none": "#bfc5cc",
}
_SIDE_SCALE = alt.Scale(
    domain=[LABEL_NAMES[label] for label in STANCE_LABELS], range=[SIDE_COLOURS[label] for label in STANCE_LABELS]
)
_WIDTH = 560


def _period_axis(summary: StanceSummary) -> alt.X:
    order = sorted(set(zip(summary.volume["period"], summary.volume["period_label"], strict=True)))
    return alt.X("period_label:O", title=summary.by, sort=[label for _, label in order], axis=alt.Axis(labelAngle=-40))


def shares_chart(summary: StanceSummary, source: str) -> alt.Chart:
    """Each side's share of the paragraphs per period (stacked to 100%) for one agency or all together."""
    data = summary.shares[summary.shares["source"] == source]
    return (
        alt.Chart(_plain(data), title=f"Share of paragraphs per side: {source}")
        .mark_bar()
        .encode(
            x=_period_axis(summary),
            y=alt.Y(
                "share:Q",
                stack="zero",
                title="share of paragraphs",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color("side:N", scale=_SIDE_SCALE, title="side", sort=[LABEL_NAMES[s] for s in STANCE_LABELS]),
            order=alt.Order("label_order:Q"),
            tooltip=[
                alt.Tooltip("period_label:N", title=summary.by),
                alt.Tooltip("side:N"),
                alt.Tooltip("share:Q", format=".0%"),
                alt.Tooltip("paragraphs:Q", title="paragraphs of this side"),
                alt.Tooltip("total_paragraphs:Q", title="paragraphs in the period"),
                alt.Tooltip("articles:Q", title="articles in the period"),
            ],
        )
        .transform_calculate(label_order=_label_order_expression())
        .properties(width=_WIDTH, height=220)
    )


def volume_chart(summary: StanceSummary, source: str) -> alt.Chart:
    """Articles and paragraphs behind each bar of the share chart, so thin periods are visible."""
    data = summary.volume[summary.volume["source"] == source]
    return (
        alt.Chart(_plain(data), title=f"Articles and paragraphs behind each period: {source}")
        .transform_fold(["articles", "paragraphs"], as_=["count", "number"])
        .mark_bar()
        .encode(
            x=_period_axis(summary),
            xOffset=alt.XOffset("count:N"),
            y=alt.Y("number:Q", title="count"),
            color=alt.Color("count:N", scale=alt.Scale(range=["#7f8c8d", "#d4ac0d"]), title="count of"),
            tooltip=[alt.Tooltip("period_label:N", title=summary.by), "count:N", "number:Q"],
        )
        .properties(width=_WIDTH, height=120)
    )


def agency_chart(summary: StanceSummary, source: str) -> alt.VConcatChart:
    """The share chart of one agency (or all together) above the counts behind it."""
    return alt.vconcat(shares_chart(summary, source), volume_chart(summary, source)).resolve_scale(color="independent")


def report_charts(summary: StanceSummary) -> dict[str, alt.TopLevelMixin]:
    """Chart name -> chart: all agencies together first, then one per agency (only that one if there is one)."""
    if len(summary.sources) == 1:  # all agencies together would draw the same chart again
        return {summary.sources[0]: agency_chart(summary, summary.sources[0])}
    charts: dict[str, alt.TopLevelMixin] = {"all-agencies": agency_chart(summary, ALL_AGENCIES)}
    for source in summary.sources:
        charts[source] = agency_chart(summary, source)
    return charts


def _label_order_expression() -> str:
    cases = " : ".join(f"datum.label === '{label}' ? {i}" for i, label in enumerate(STANCE_LABELS))
    return f"{cases} : {len(STANCE_LABELS)}"


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO text: the specification embeds the data as JSON."""
    frame = frame.copy()
    for column in ("period", "published_date"):
        if column in frame.columns:
            frame[column] = frame[column].map(lambda day: day.isoformat())
    return frame
