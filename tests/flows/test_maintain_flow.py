"""The `maintain-lake` flow: compaction, vacuum with the retention setting, checkpoint, file check."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from wirestance.flows.maintain import maintain_lake
from wirestance.lake import Lake

sys.path.insert(0, str(Path(__file__).parents[1] / "lake"))
from lake_rows import versioned

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_maintain_lake_flow_bounds_files_and_fails_on_a_damaged_file(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("WIRESTANCE_LAKE_URL", str(tmp_path))
    monkeypatch.setenv("WIRESTANCE_LAKE_RETENTION_HOURS", "0")
    lake = Lake(str(tmp_path))
    for version in range(3):
        for i in range(6):
            row, paras = versioned(f"a{i}", version)
            lake.upsert([row], paras)
    rows = {row["table"]: row for row in maintain_lake()}
    assert rows["paragraphs"]["max_files_per_partition_after"] == 1 < rows["paragraphs"]["files_before"]
    assert rows["articles"]["files_vacuumed"] > 0
    victim = Path(sorted(lake.delta_table("articles").file_uris())[0].removeprefix("file://"))
    victim.unlink()
    with pytest.raises(RuntimeError, match="damaged data file"):
        maintain_lake()
