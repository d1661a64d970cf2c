"""`wirestance reclassify` at a terminal: a progress bar over the lake's partitions, then a summary table."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wirestance.flows.ingest import ingest
from wirestance.lake import Lake
from wirestance.relabel import relabel_paragraphs
from wirestance.replay import ReplayServer

pytestmark = pytest.mark.usefixtures("prefect_harness")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class EverythingIsNone:
    version = "everything-none-1"

    def predict(self, texts: list[str]) -> object:
        import numpy as np

        from wirestance.classifiers.predict import Predictions

        return Predictions(["none"] * len(texts), np.ones(len(texts)), np.tile([0.0, 0.0, 0.0, 1.0], (len(texts), 1)))


def test_reclassify_shows_a_bar_over_the_partitions_and_where_the_labels_went(
    lake_env: Path, sample_server: ReplayServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    ingest(
        start=datetime(2019, 1, 1, tzinfo=UTC),
        end=datetime(2020, 1, 1, tzinfo=UTC),
        feed_base_url=sample_server.base_url,
    )
    lake = Lake(str(lake_env))
    partitions = len(lake.partitions("paragraphs"))
    stale = relabel_paragraphs(lake, EverythingIsNone()).paragraphs_relabelled
    assert partitions > 1 and stale > 0
    capsys.readouterr()
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich draws the live bar as at a terminal
    monkeypatch.setenv("COLUMNS", "200")
    from wirestance.cli import main

    assert main(["reclassify"]) == 0
    out = ANSI.sub("", capsys.readouterr().out)
    frames = [frame.strip() for line in out.splitlines() for frame in line.split("\r") if frame.strip()]
    bars = [frame for frame in frames if frame.startswith("reclassify ")]
    assert len(bars) >= 2, out  # drawn at 0 and redrawn as partitions are read
    assert bars[0].endswith(f"0/{partitions} partitions,   0%, time left -:--:--"), bars[0]
    assert re.fullmatch(rf"reclassify ━+ {partitions}/{partitions} partitions, 100%, time left 0:00:00", bars[-1])
    assert f"relabelled {stale} paragraphs in {partitions} partitions" in out
    assert re.search(rf"│ paragraphs relabelled +│ {stale} +│", out)
    assert re.search(rf"│ stored in the lake at +│ {re.escape(str(lake_env))} +│", out), out
