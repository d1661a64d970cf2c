"""The flat table every report, summary and export starts from: one row per labelled paragraph, with its
article's title, link and publication day, read from the lake through `Lake.read`."""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow.dataset as ds

from wirestance.lake import Lake
from wirestance.lake.schema import PARTITION_COLUMN, PROBABILITY_COLUMNS

if TYPE_CHECKING:
    from wirestance.pipeline import Window
    from wirestance.settings import Settings

#: The agencies' own time zone, for a source that does not name its own.
DEFAULT_SOURCE_TIMEZONE = "Europe/Istanbul"

#: The one window rule of every command and flow, as the help texts say it.
WINDOW_RULE = (
    "both days included, counted in each source's own time zone (the day the agency printed on the story, "
    "which is the lake's published_date)"
)

#: The columns of `wirestance export`, in order (the probabilities follow).
EXPORT_COLUMNS = (
    "source",
    "article_id",
    "title",
    "url",
    "published_date",
    "para_index",
    "text",
    "label",
    "confidence",
    "model_version",
    "parser_version",
    *PROBABILITY_COLUMNS,
)

#: Article columns of the topic flag (schema version 5): a lake made before reads them as nulls.
TOPIC_COLUMNS = ("on_topic", "topic_score")
_ARTICLE_COLUMNS = ("source", "article_id", "title", "url", "published", "published_date")
_PARAGRAPH_COLUMNS = (
    "source",
    "article_id",
    "para_index",
    "text",
    "label",
    "confidence",
    *PROBABILITY_COLUMNS,
    "model_version",
    "parser_version",
)


def load_paragraphs(
    lake: Lake | str,
    since: date | None = None,
    until: date | None = None,
    sources: Sequence[str] | None = None,
    *,
    on_topic_only: bool = True,
) -> pd.DataFrame:
    """Labelled paragraphs of the articles published from `since` to `until` (both days included, each
    agency's own day), of `sources` (all when empty), sorted by day, source, article and paragraph.

    With `on_topic_only`, articles the topic filter marked off-topic are left out; a lake without the
    `on_topic` column (or an article not yet scored) counts as on topic. `published_date` is a
    `datetime.date` whatever type the lake returns it as.
    """
    lake = Lake(lake) if isinstance(lake, str) else lake
    # Days and sources are read as a filter on the partition column, so a report of one month of one
    # agency reads that month's files, not the whole lake.
    where = _days_and_sources(since, until, sources)
    articles = lake.read("articles", filter=where).to_pandas()
    paragraphs = lake.read("paragraphs", filter=where).to_pandas()
    keep = [c for c in (*_ARTICLE_COLUMNS, *TOPIC_COLUMNS) if c in articles.columns]
    articles = articles[keep].copy()
    articles["published_date"] = as_dates(articles["published_date"])
    if on_topic_only and "on_topic" in articles.columns:
        articles = articles[articles["on_topic"].fillna(True).astype(bool)]
    paragraphs = paragraphs[[c for c in _PARAGRAPH_COLUMNS if c in paragraphs.columns]]
    merged = paragraphs.merge(articles, on=["source", "article_id"], how="inner")
    merged = merged[merged["label"].notna()]
    ordered = [*EXPORT_COLUMNS, *(c for c in merged.columns if c not in EXPORT_COLUMNS)]
    merged = merged[[c for c in ordered if c in merged.columns]]
    return merged.sort_values(["published_date", "source", "article_id", "para_index"], ignore_index=True)


def _days_and_sources(since: date | None, until: date | None, sources: Sequence[str] | None) -> ds.Expression | None:
    """The lake filter of a window of days (both included) and of sources (all when empty)."""
    day = ds.field(PARTITION_COLUMN)
    parts = []
    if since is not None:
        parts.append(day >= since)
    if until is not None:
        parts.append(day <= until)
    if sources:
        parts.append(ds.field("source").isin(sorted({name.strip().lower() for name in sources})))
    return functools.reduce(operator.and_, parts) if parts else None


def as_dates(values: pd.Series) -> pd.Series:
    """A column of `datetime.date` from dates, ISO strings or timestamps (the lake's partition column has
    been each of these, depending on the storage format)."""
    if values.empty:
        return values.astype(object)
    if all(isinstance(v, date) and not isinstance(v, datetime) for v in values.dropna()):
        return values
    return pd.to_datetime(values).dt.date


def source_timezone(name: str) -> ZoneInfo:
    """The time zone a source's days are counted in (its `timezone` attribute, else the agencies' own)."""
    from wirestance.sources import get_source

    try:
        zone = getattr(get_source(name), "timezone", None)
    except ValueError:
        zone = None
    return ZoneInfo(str(zone or DEFAULT_SOURCE_TIMEZONE))


def window_days(window: Window, sources: Sequence[str]) -> tuple[date, date]:
    """The first and last day (both included) a [start, end) window touches, in the sources' own time zones."""
    zones = [source_timezone(name) for name in sources] or [ZoneInfo(DEFAULT_SOURCE_TIMEZONE)]
    last_moment = window.end - timedelta(microseconds=1)
    first = min(window.start.astimezone(zone).date() for zone in zones)
    last = max(last_moment.astimezone(zone).date() for zone in zones)
    return first, max(first, last)


def reports_dir(settings: Settings) -> Path:
    """Where reports go: WIRESTANCE_REPORTS_DIR, else a `reports` folder beside a local lake, else data/reports."""
    if settings.reports_dir:
        return Path(settings.reports_dir)
    if "://" not in settings.lake_url:
        return Path(settings.lake_url).resolve().parent / "reports"
    return Path.cwd() / "data" / "reports"
