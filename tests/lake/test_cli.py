"""`wirestance lake ...` and `wirestance summary --as-of`."""

from __future__ import annotations

from pathlib import Path

import pytest
from lake_rows import DAY, article, paragraphs, versioned
from test_migrate import write_old_layout

from wirestance.cli import main
from wirestance.lake import Lake


def test_summary_as_of_a_version_and_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    lake = Lake(str(tmp_path))
    lake.upsert([article("1", DAY)], paragraphs("1"))
    version = lake.version("articles")
    relabelled = [{**p, "label": "us_objection"} for p in paragraphs("1")]
    lake.upsert([article("1", DAY), article("2", DAY)], relabelled + paragraphs("2"), replace_unchanged=True)

    assert main(["summary", "--lake", str(tmp_path), "--as-of", str(version)]) == 0
    past = capsys.readouterr().out
    assert "1 articles, 2 paragraphs" in past and "us_objection" not in past
    assert main(["summary", "--lake", str(tmp_path)]) == 0
    now = capsys.readouterr().out
    assert "2 articles, 4 paragraphs" in now and "us_objection" in now

    assert main(["lake", "history", "--lake", str(tmp_path)]) == 0
    history = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in history] == [str(v) for v in range(version + 1, -1, -1)]
    assert main(["summary", "--lake", str(tmp_path), "--as-of", "99"]) == 2
    assert "no version 99" in capsys.readouterr().err


def test_maintain_check_restore_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    lake = Lake(str(tmp_path))
    for version in range(3):
        rows, paras = zip(*(versioned(f"a{i}", version) for i in range(4)), strict=True)
        lake.upsert(list(rows), [p for group in paras for p in group])
    assert main(["lake", "maintain", "--lake", str(tmp_path), "--retention-hours", "0"]) == 0
    assert "table=paragraphs" in capsys.readouterr().out
    assert main(["lake", "check", "--lake", str(tmp_path)]) == 0
    capsys.readouterr()
    row, paras = versioned("a0", 7)
    lake.upsert([row], paras)
    victim = sorted(lake.delta_table("paragraphs").file_uris())[-1]
    Path(victim.removeprefix("file://")).write_bytes(b"garbage")
    assert main(["lake", "check", "--lake", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "paragraphs: published_date=" in out and "unreadable" in out
    assert main(["lake", "restore", "--lake", str(tmp_path)]) == 0
    assert "paragraphs: restored version" in capsys.readouterr().out
    assert main(["lake", "check", "--lake", str(tmp_path)]) == 0


def test_migrate_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    write_old_layout(tmp_path)
    assert main(["lake", "migrate", "--lake", str(tmp_path)]) == 0
    assert "table=articles  status=converted  rows_before=30  rows_after=30" in capsys.readouterr().out
    assert main(["lake", "migrate", "--lake", str(tmp_path)]) == 0
    assert "table=articles  status=already-delta" in capsys.readouterr().out
