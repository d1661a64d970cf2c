"""Relabelling stored paragraphs with the champion: every stale row once, then nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from wirestance.classifiers.predict import Predictions
from wirestance.flows.ingest import ingest
from wirestance.flows.reclassify import reclassify
from wirestance.lake import Lake
from wirestance.relabel import relabel_paragraphs
from wirestance.replay import ReplayServer

pytestmark = pytest.mark.usefixtures("prefect_harness")


class EverythingIsNone:
    """A labeller of its own version that calls every paragraph `none` with certainty."""

    version = "everything-none-1"

    def predict(self, texts: Sequence[str]) -> Predictions:
        probabilities = np.tile([0.0, 0.0, 0.0, 1.0], (len(texts), 1))
        return Predictions(["none"] * len(texts), np.ones(len(texts)), probabilities)


def test_relabel_then_reclassify_back_is_idempotent(lake_env: Path, sample_server: ReplayServer):
    ingest(
        start=datetime(2019, 1, 1, tzinfo=UTC),
        end=datetime(2020, 1, 1, tzinfo=UTC),
        feed_base_url=sample_server.base_url,
    )
    lake = Lake(str(lake_env))
    before = lake.read("paragraphs").to_pandas().sort_values(["article_id", "para_index"]).reset_index(drop=True)
    champion_version = before["model_version"].iloc[0]

    first = relabel_paragraphs(lake, EverythingIsNone())
    assert first.paragraphs_relabelled == len(before)
    relabelled = lake.read("paragraphs").to_pandas()
    assert set(relabelled["label"]) == {"none"} and set(relabelled["model_version"]) == {"everything-none-1"}
    assert relabel_paragraphs(lake, EverythingIsNone()).partitions_rewritten == 0

    summary = reclassify()
    assert summary["model_version"] == champion_version
    assert summary["paragraphs_relabelled"] == len(before)
    after = lake.read("paragraphs").to_pandas().sort_values(["article_id", "para_index"]).reset_index(drop=True)
    assert after["label"].tolist() == before["label"].tolist()
    assert np.allclose(after["p_none"], before["p_none"], atol=1e-6)
    assert after["text"].tolist() == before["text"].tolist()
    assert reclassify()["paragraphs_relabelled"] == 0
