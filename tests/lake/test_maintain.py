"""maintain-lake: compaction bounds the files per partition, vacuum removes superseded files, a damaged
data file is reported with its path and the table restored to its newest whole version."""

from __future__ import annotations

from pathlib import Path

import pytest
from lake_rows import versioned

from wirestance.lake import Lake
from wirestance.lake.maintain import check, maintain, restore


def write_versions(lake: Lake, versions: range, keys: int = 12, per_batch: int = 3) -> None:
    """Every article at each version, a few articles per upsert (so each upsert adds small files)."""
    for version in versions:
        for start in range(0, keys, per_batch):
            rows, paras = [], []
            for i in range(start, min(keys, start + per_batch)):
                row, para = versioned(f"a{i:02d}", version)
                rows.append(row)
                paras.extend(para)
            lake.upsert(rows, paras)


def data_files(root: Path, table: str) -> list[Path]:
    return sorted(p for p in (root / table).rglob("*.parquet") if "_delta_log" not in p.parts)


def test_maintenance_compacts_and_vacuums(tmp_path: Path):
    lake = Lake(str(tmp_path))
    write_versions(lake, range(6))
    before = lake.read("paragraphs").sort_by("text")
    reports = {r.table: r for r in maintain(lake, retention_hours=0)}
    for table in ("articles", "paragraphs"):  # 24 small upserts left several files per day; one is left
        assert reports[table].max_files_per_partition_before > 1
        assert reports[table].max_files_per_partition_after == 1
    paragraphs = reports["paragraphs"]
    assert paragraphs.max_files_per_partition_after == 1 < paragraphs.files_before
    assert paragraphs.files_vacuumed > 0
    assert len(data_files(tmp_path, "paragraphs")) == paragraphs.files_after  # superseded files are gone
    assert lake.read("paragraphs").sort_by("text").equals(before)
    assert list((tmp_path / "paragraphs" / "_delta_log").glob("*.checkpoint.parquet"))
    again = {r.table: r for r in maintain(lake, retention_hours=0)}
    assert again["paragraphs"].files_compacted == 0
    # The one day's file, and the table's marker (an empty file the upserts replace: see Lake._replace_rows).
    assert len(data_files(tmp_path, "paragraphs")) == again["paragraphs"].files_after == 2
    assert len([p for p in data_files(tmp_path, "paragraphs") if p.name.startswith("marker-")]) == 1


def test_retention_keeps_files_of_recent_versions(tmp_path: Path):
    lake = Lake(str(tmp_path))
    write_versions(lake, range(3))
    first_files = len(data_files(tmp_path, "articles"))
    maintain(lake, retention_hours=24)
    assert len(data_files(tmp_path, "articles")) > first_files  # compacted file added, old ones kept
    assert Lake(str(tmp_path), as_of=4).read("articles").num_rows == 12  # version 0 is the empty table


@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_a_damaged_file_is_reported_and_the_table_restored(tmp_path: Path, damage: str):
    lake = Lake(str(tmp_path))
    write_versions(lake, range(2))
    write_versions(lake, range(2, 3))
    newest = lake.delta_table("articles")
    victim = tmp_path / "articles" / sorted(newest.file_uris())[-1].split("/articles/", 1)[1]
    if damage == "truncate":
        victim.write_bytes(victim.read_bytes()[:100])
    else:
        victim.unlink()
    problems = check(lake)
    assert [(p.table, p.path) for p in problems] == [("articles", str(victim.relative_to(tmp_path / "articles")))]
    assert ("missing" if damage == "delete" else "unreadable") in problems[0].reason
    reports = {r.table: r for r in restore(lake)}
    assert reports["articles"].restored_to is not None
    assert reports["articles"].restored_to < reports["articles"].restored_from
    assert reports["paragraphs"].restored_to is None  # whole: left alone
    assert check(lake) == []
    restored = lake.read("articles").to_pylist()
    assert len(restored) == 12 and {r["content_hash"][-2:] for r in restored} <= {"v1", "v2"}
    write_versions(lake, range(2, 3))  # the next run writes what the restore undid
    assert {r["content_hash"][-2:] for r in lake.read("articles").to_pylist()} == {"v2"}
