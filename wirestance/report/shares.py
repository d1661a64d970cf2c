"""Per-period, per-side shares of the paragraphs, per agency and overall, with the counts behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import pandas as pd

from wirestance.lake.schema import STANCE_LABELS

Period = Literal["week", "month"]
PERIODS: tuple[Period, ...] = ("week", "month")
#: The row of every agency together in the per-agency tables.
ALL_AGENCIES = "all agencies"
#: A paragraph whose most likely label has less than this probability is "low confidence": with four labels
#: the model then puts most of its belief on the others together.
LOW_CONFIDENCE = 0.5
#: How many paragraphs per side the report quotes.
TOP_PARAGRAPHS = 5
#: Words a reader sees for each label.
LABEL_NAMES = {
    "russian_supplier": "Russian supplier",
    "turkish_government": "Turkish government",
    "us_objection": "US objection",
    "none": "no side",
}
SIDES = tuple(label for label in STANCE_LABELS if label != "none")


@dataclass
class StanceSummary:
    """Everything the report shows, computed once."""

    by: Period
    since: date | None
    until: date | None
    #: period, period_label, source, label, side, paragraphs, total_paragraphs, articles, share (0..1).
    shares: pd.DataFrame
    #: period, period_label, source, articles, paragraphs.
    volume: pd.DataFrame
    #: The most confident paragraphs of each side: label, side, confidence, text, title, source, published_date, url.
    top: pd.DataFrame
    n_articles: int
    n_paragraphs: int
    low_confidence_paragraphs: int
    #: model_version -> paragraphs labelled by it.
    model_versions: dict[str, int] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.n_paragraphs == 0

    @property
    def low_confidence_share(self) -> float:
        return self.low_confidence_paragraphs / self.n_paragraphs if self.n_paragraphs else 0.0

    def overall_shares(self) -> pd.DataFrame:
        """Share of each label over the whole window, one row per agency and one for all together:
        source, articles, paragraphs and one column per label."""
        rows = []
        frame = self.shares
        for source in [*self.sources, ALL_AGENCIES]:
            part = frame[frame["source"] == source]
            if part.empty:
                continue
            counts = part.groupby("label")["paragraphs"].sum()
            total = int(counts.sum())
            volume = self.volume[self.volume["source"] == source]
            row: dict[str, object] = {"source": source, "articles": int(volume["articles"].sum()), "paragraphs": total}
            for label in STANCE_LABELS:
                row[label] = float(counts.get(label, 0)) / total if total else 0.0
            rows.append(row)
        return pd.DataFrame(rows, columns=["source", "articles", "paragraphs", *STANCE_LABELS])


def period_start(day: date, by: Period) -> date:
    """First day of the week (Monday) or month that holds `day`."""
    if by == "week":
        return day - timedelta(days=day.weekday())
    if by == "month":
        return day.replace(day=1)
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {by!r}")


def period_label(start: date, by: Period) -> str:
    if by == "month":
        return start.strftime("%Y-%m")
    iso = start.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def summarize(
    paragraphs: pd.DataFrame,
    by: Period = "week",
    since: date | None = None,
    until: date | None = None,
    top: int = TOP_PARAGRAPHS,
) -> StanceSummary:
    """The summary of a table made by `load_paragraphs`."""
    if by not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {by!r}")
    frame = paragraphs.copy()
    frame["period"] = [period_start(day, by) for day in frame["published_date"]]
    frame["period_label"] = [period_label(start, by) for start in frame["period"]]
    frame["article_key"] = frame["source"] + "/" + frame["article_id"]  # ids are unique within an agency only
    sources = sorted(frame["source"].unique().tolist())
    # Each agency's rows, then all of them again as one more agency: the overall chart is computed alike.
    both = pd.concat([frame, frame.assign(source=ALL_AGENCIES)], ignore_index=True)
    volume = (
        both.groupby(["period", "period_label", "source"])
        .agg(articles=("article_key", "nunique"), paragraphs=("para_index", "size"))
        .reset_index()
    )
    counts = both.groupby(["period", "period_label", "source", "label"]).size().rename("paragraphs").reset_index()
    # Every label in every period, so a side absent from a period shows as 0%, not as a gap.
    grid = volume[["period", "period_label", "source"]].merge(pd.DataFrame({"label": list(STANCE_LABELS)}), how="cross")
    shares = grid.merge(counts, how="left", on=["period", "period_label", "source", "label"]).fillna({"paragraphs": 0})
    shares = shares.merge(
        volume.rename(columns={"paragraphs": "total_paragraphs"}), on=["period", "period_label", "source"]
    )
    shares["paragraphs"] = shares["paragraphs"].astype(int)
    shares["share"] = shares["paragraphs"] / shares["total_paragraphs"]
    shares["side"] = shares["label"].map(LABEL_NAMES)
    shares = shares.sort_values(["source", "period", "label"], ignore_index=True)
    confident = frame[frame["label"].isin(SIDES)].sort_values("confidence", ascending=False)
    quoted = confident.groupby("label", sort=False).head(top).copy()
    quoted["side"] = quoted["label"].map(LABEL_NAMES)
    quoted["order"] = quoted["label"].map({label: i for i, label in enumerate(SIDES)})
    quoted = quoted.sort_values(["order", "confidence"], ascending=[True, False], ignore_index=True)
    versions = frame["model_version"].fillna("unknown").value_counts()
    return StanceSummary(
        by=by,
        since=since,
        until=until,
        shares=shares,
        volume=volume.sort_values(["source", "period"], ignore_index=True),
        top=quoted[["label", "side", "confidence", "text", "title", "source", "published_date", "url"]],
        n_articles=int(frame[["source", "article_id"]].drop_duplicates().shape[0]),
        n_paragraphs=len(frame),
        low_confidence_paragraphs=int((frame["confidence"] < LOW_CONFIDENCE).sum()),
        model_versions={str(k): int(v) for k, v in versions.items()},
        sources=sources,
    )
