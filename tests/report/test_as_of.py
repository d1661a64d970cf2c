"""`wirestance export --as-of` and `wirestance report --as-of`: the labels as they were before a reprocess
(a version of the articles table) and before a reclassify (a time: its paragraphs commit comes before its
articles commit, so an articles version would already show the new labels)."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from wirestance.cli import main
from wirestance.lake import Lake


def _export(lake: Path, out: Path, *as_of: str) -> pd.DataFrame:
    assert main(["export", "--lake", str(lake), "--out", str(out), *as_of]) == 0
    return pd.read_csv(out).sort_values(["source", "article_id", "para_index"], ignore_index=True)


def _relabelled(table: pa.Table, label: str, model: str) -> pa.Table:
    for name, value in (("label", label), ("model_version", model)):
        column = pa.array([value] * table.num_rows, table.schema.field(name).type)
        table = table.set_column(table.schema.get_field_index(name), name, column)
    return table


def _last_commit_time(lake: Lake, table: str) -> str:
    dt = lake.delta_table(table)
    assert dt is not None
    millis = dt.history(1)[0]["timestamp"]
    return datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat(timespec="milliseconds")


@pytest.fixture
def lake_copy(synthetic_lake: tuple[Path, dict[str, int]], tmp_path: Path) -> Path:
    """This test's own copy of the report tests' lake (it writes to it)."""
    return Path(shutil.copytree(synthetic_lake[0], tmp_path / "lake"))


def test_export_and_report_read_the_labels_as_they_were(
    lake_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    root = lake_copy
    lake = Lake(str(root))
    first = lake.version("articles")
    assert first is not None
    original = _export(root, tmp_path / "original.csv")
    assert set(original["model_version"]) == {"model-a", "model-b"}

    # A reprocess with a new model: every article and its paragraphs again (a new articles version).
    articles = lake.read("articles").to_pylist()
    paragraphs = lake.read("paragraphs").to_pylist()
    lake.upsert(
        articles, [{**p, "label": "none", "model_version": "model-c"} for p in paragraphs], replace_unchanged=True
    )
    assert lake.version("articles") == first + 1
    reprocessed_at = _last_commit_time(lake, "paragraphs")
    time.sleep(0.01)  # the reclassify's commits get a later millisecond than the reprocess's
    # A reclassify's first commit: paragraphs rewritten in place.
    assert lake.rewrite_paragraphs(lambda table: _relabelled(table, "russian_supplier", "model-d")) > 0
    assert lake.version("articles") == first + 1
    capsys.readouterr()

    now = _export(root, tmp_path / "now.csv")
    assert set(now["label"]) == {"russian_supplier"} and set(now["model_version"]) == {"model-d"}

    past = _export(root, tmp_path / "past.csv", "--as-of", str(first))
    assert f"as of version {first} of the articles table" in capsys.readouterr().out
    pd.testing.assert_frame_equal(past, original)

    before_reclassify = _export(root, tmp_path / "before-reclassify.csv", "--as-of", reprocessed_at)
    said = capsys.readouterr().out
    assert f"(version {first + 1} of the articles table)" in said
    assert set(before_reclassify["label"]) == {"none"} and set(before_reclassify["model_version"]) == {"model-c"}
    assert len(before_reclassify) == len(now) == len(original)

    reports = tmp_path / "reports"
    assert main(["report", "--lake", str(root), "--out", str(reports), "--no-png", "--as-of", str(first)]) == 0
    assert main(["report", "--lake", str(root), "--out", str(reports), "--no-png"]) == 0
    pages = {page.stem: page.read_text(encoding="utf-8") for page in reports.glob("*.html")}
    assert sorted(pages) == ["stance-report_start_end_week", f"stance-report_start_end_week_v{first}"]
    old_page, new_page = pages[f"stance-report_start_end_week_v{first}"], pages["stance-report_start_end_week"]
    assert "<code>model-a</code>" in old_page and "model-d" not in old_page
    assert f"The lake as it was: version {first} of the articles table" in old_page
    assert "<code>model-d</code>" in new_page and "model-a" not in new_page and 'id="as-of"' not in new_page


def test_an_unknown_version_is_a_clear_error(
    synthetic_lake: tuple[Path, dict[str, int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    root = synthetic_lake[0]
    assert main(["export", "--lake", str(root), "--out", str(tmp_path / "x.csv"), "--as-of", "99"]) == 2
    assert "no version 99" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(SystemExit) as refused:
        main(["report", "--lake", str(root), "--out", str(tmp_path), "--as-of", "yesterday"])
    assert refused.value.code == 2
    assert "'yesterday' is not an ISO 8601 date or datetime" in capsys.readouterr().err
