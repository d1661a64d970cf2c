"""The stance report, its markdown summary and the exports, on a lake written for these tests."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wirestance.cli import main
from wirestance.lake.schema import STANCE_LABELS
from wirestance.report import EXPORT_COLUMNS, load_paragraphs, shares_markdown, summarize, write_export
from wirestance.report.shares import ALL_AGENCIES, period_start

from .conftest import DAYS, FIRST_DAY


def test_shares_add_up_per_period_and_agency_with_the_counts_behind_them(synthetic_lake):
    root, written = synthetic_lake
    summary = summarize(load_paragraphs(str(root)), "week")
    assert (summary.n_articles, summary.n_paragraphs) == (written["articles"], written["paragraphs"])
    assert summary.sources == ["anadolu", "trt"]
    totals = summary.shares.groupby(["source", "period"])["share"].sum()
    assert ((totals - 1).abs() < 1e-9).all()
    assert set(summary.shares["label"]) == set(STANCE_LABELS)  # absent sides show as 0, not as gaps
    volume = summary.volume.set_index(["source", "period"])
    first_week = period_start(FIRST_DAY, "week")
    assert volume.loc[("anadolu", first_week), "articles"] == 7
    assert volume.loc[("trt", first_week), "articles"] == 3  # the thin agency's count is there to see
    assert volume.loc[(ALL_AGENCIES, first_week), "articles"] == 10  # same ids at two agencies are two articles
    # anadolu's Turkish-government share grows from week 1 to week 4 as the lake was written.
    anadolu = summary.shares[
        (summary.shares["source"] == "anadolu") & (summary.shares["label"] == "turkish_government")
    ]
    assert anadolu["share"].iloc[0] < anadolu["share"].iloc[3]
    assert summary.model_versions == {"model-a": 21 * 4 + 7 * 4, "model-b": 21 * 4 + 7 * 4}
    assert 0 < summary.low_confidence_paragraphs < summary.n_paragraphs
    assert list(summary.top.groupby("label", sort=False).size()) == [5, 5, 5]
    assert summary.top["confidence"].max() == pytest.approx(summary.top["confidence"].max())


def test_window_is_both_days_included_and_by_month(synthetic_lake):
    root, _ = synthetic_lake
    day = date(2019, 11, 11)
    one_day = load_paragraphs(str(root), day, day)
    assert set(one_day["published_date"]) == {day}
    assert len(one_day) == 4  # anadolu's article of that day; trt publishes every third day
    months = summarize(load_paragraphs(str(root), sources=["trt"]), "month")
    assert sorted(set(months.shares["period_label"])) == ["2019-11", "2019-12"]
    assert months.sources == ["trt"]


def test_markdown_has_a_row_per_agency_and_the_report_path(synthetic_lake, tmp_path: Path):
    root, _ = synthetic_lake
    summary = summarize(load_paragraphs(str(root)), "week")
    text = shares_markdown(summary, "Backfill 2019-11-04..2019-12-15", tmp_path / "r.html")
    lines = text.splitlines()
    assert lines[0] == "# Backfill 2019-11-04..2019-12-15"
    header = next(line for line in lines if line.startswith("| agency"))
    assert "Turkish government" in header and "US objection" in header
    assert [line.split("|")[1].strip() for line in lines if line.startswith("| ") and "%" in line] == [
        "anadolu",
        "trt",
        ALL_AGENCIES,
    ]
    assert str(tmp_path / "r.html") in text
    empty = shares_markdown(summarize(load_paragraphs(str(root), date(2030, 1, 1)), "week"), "Nothing")
    assert "No labelled paragraphs" in empty


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_export_columns_and_published_date_reads_back_as_a_date(synthetic_lake, tmp_path: Path, fmt: str):
    root, written = synthetic_lake
    out = tmp_path / f"paragraphs.{fmt}"
    assert (
        main(["export", "--lake", str(root), "--out", str(out), "--since", "2019-11-04", "--until", "2019-11-10"]) == 0
    )
    expected_rows = 7 * 4 + 3 * 4
    # The lake's articles carry the topic flag (schema 5): its columns follow the columns.
    expected_columns = [*EXPORT_COLUMNS, "on_topic", "topic_score"]
    if fmt == "parquet":
        table = pq.read_table(out)
        assert table.column_names == expected_columns
        assert table.schema.field("published_date").type == pa.date32()
        assert table.num_rows == expected_rows
        assert min(table.column("published_date").to_pylist()) == date(2019, 11, 4)
    elif fmt == "xlsx":
        sheet = openpyxl.load_workbook(out, read_only=True)["paragraphs"]
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == expected_columns
        assert len(rows) - 1 == expected_rows
        published = rows[1][EXPORT_COLUMNS.index("published_date")]
        assert published.date() == date(2019, 11, 4)  # a date cell, not text
    else:
        with out.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert list(rows[0]) == expected_columns
        assert len(rows) == expected_rows
        assert {date.fromisoformat(row["published_date"]) for row in rows} == {date(2019, 11, d) for d in range(4, 11)}
    assert written["paragraphs"] > expected_rows


def test_export_keeps_the_date_type_when_the_lake_returns_text(synthetic_lake, tmp_path: Path):
    root, _ = synthetic_lake
    paragraphs = load_paragraphs(str(root))
    paragraphs["published_date"] = paragraphs["published_date"].map(lambda d: d.isoformat())  # as some lakes do
    write_export(paragraphs, tmp_path / "p.parquet", "parquet")
    assert pq.read_schema(tmp_path / "p.parquet").field("published_date").type == pa.date32()


def test_export_and_report_refuse_bad_input_in_one_line(synthetic_lake, tmp_path: Path, capsys):
    root, _ = synthetic_lake
    assert main(["export", "--lake", str(tmp_path / "missing"), "--out", str(tmp_path / "x.csv")]) == 2
    assert main(["export", "--lake", str(root), "--out", str(tmp_path / "x.txt")]) == 2
    assert main(["report", "--lake", str(root), "--since", "2019-12-01", "--until", "2019-11-01"]) == 2
    assert main(["report", "--lake", str(root), "--source", "nosuch"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 4
    assert "no lake at" in errors[0] and "--format" in errors[1]
    assert "before --since" in errors[2] and "unknown source" in errors[3]


def test_report_command_writes_html_and_pngs(synthetic_lake, tmp_path: Path, capsys):
    root, _ = synthetic_lake
    out = tmp_path / "reports"
    assert main(["report", "--lake", str(root), "--by", "month", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    page = out / "stance-report_start_end_month.html"
    assert f"report: {page}" in printed
    pngs = sorted(out.glob("*.png"))
    assert [p.name.rsplit("_", 1)[1] for p in pngs] == ["all-agencies.png", "anadolu.png", "trt.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000 for p in pngs)
    text = page.read_text(encoding="utf-8")
    assert "cdn.jsdelivr" not in text and "<script src" not in text  # everything inline
    assert "&lt;b&gt;and&lt;/b&gt;" in text  # paragraph text is escaped, never markup
    assert DAYS == 42
