from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from wirestance.classifiers.dataset import LabeledDataError, load_labeled_data
from wirestance.classifiers.labels import LABELS


def test_loads_a_directory_of_jsonl_files(labeled_dir: Path) -> None:
    dataset = load_labeled_data(labeled_dir)
    assert len(dataset) == 80
    assert set(dataset.labels) == set(LABELS)
    assert dataset.rows[0].group == "synthetic/a00"
    assert dataset.rows[0].row_key == "synthetic/a00#0"


def test_every_problem_is_listed_with_file_and_line(rows_writer, make_rows) -> None:
    rows = make_rows()[:12]
    good = rows_writer("a.jsonl", rows[:8]).parent
    bad_rows = [
        {**rows[8], "label": "pro_us"},
        {**rows[9], "text": "   "},
        {**rows[0], "article_id": "other"},  # duplicate of a.jsonl line 1, same label
        {**rows[1], "label": "none", "article_id": "other"},  # text of a.jsonl line 2 with another label
    ]
    path = good / "b.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in bad_rows) + "{not json\n", encoding="utf-8")

    with pytest.raises(LabeledDataError) as caught:
        load_labeled_data(good)
    problems = caught.value.problems
    assert any(p.startswith(f"{path} line 1: unknown label 'pro_us'") for p in problems)
    assert any(p.startswith(f"{path} line 2: empty text") for p in problems)
    assert any(p.startswith(f"{path} line 5: not valid JSON") for p in problems)
    assert any(p.startswith("duplicate text:") and "a.jsonl line 1" in p and "b.jsonl line 3" in p for p in problems)
    assert any(
        p.startswith("same text with two labels:")
        and "a.jsonl line 2 (turkish_government)" in p
        and "b.jsonl line 4 (none)" in p
        for p in problems
    )
    assert len(problems) == 5
    assert "\n" not in str(caught.value)


def test_whitespace_differences_still_count_as_duplicates(rows_writer, make_rows) -> None:
    row = make_rows()[0]
    path = rows_writer("dup.jsonl", [row, {**row, "text": "  " + row["text"].replace(" ", "  ")}])
    with pytest.raises(LabeledDataError, match="duplicate text"):
        load_labeled_data(path)


def test_csv_and_parquet_inputs(tmp_path: Path, make_rows) -> None:
    rows = make_rows()
    csv_path = tmp_path / "rows.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert load_labeled_data(csv_path).labels == [r["label"] for r in rows]

    # A hive-partitioned parquet table, as the lake writes it.
    lake = tmp_path / "lake" / "paragraphs"
    frame = pd.DataFrame(rows)
    frame.to_parquet(lake, partition_cols=["date"])
    loaded = load_labeled_data(lake)
    assert sorted(loaded.texts) == sorted(r["text"] for r in rows)

    frame.loc[3, "label"] = "unknown"
    single = tmp_path / "one.parquet"
    frame.to_parquet(single)
    with pytest.raises(LabeledDataError, match=r"one\.parquet row 4: unknown label 'unknown'"):
        load_labeled_data(single)


def test_missing_or_empty_inputs(tmp_path: Path) -> None:
    with pytest.raises(LabeledDataError, match="no such file"):
        load_labeled_data(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LabeledDataError, match=r"no \.jsonl, \.csv or \.parquet files"):
        load_labeled_data(tmp_path / "empty")


def test_content_hash_ignores_order_and_ids(make_rows, rows_writer) -> None:
    rows = make_rows()
    first = load_labeled_data(rows_writer("one.jsonl", rows))
    renamed = [{**r, "article_id": "x" + r["article_id"]} for r in rows[::-1]]
    second = load_labeled_data(rows_writer("two.jsonl", renamed))
    assert first.content_hash() == second.content_hash()
    assert first.rows_hash() != second.rows_hash()
