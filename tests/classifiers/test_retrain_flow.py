from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from wirestance.classifiers.dataset import LabeledDataError
from wirestance.classifiers.labels import LABELS
from wirestance.classifiers.registry import ModelRegistry
from wirestance.settings import Settings


@pytest.mark.usefixtures("prefect_harness")
def test_retrain_promotes_refuses_and_keeps_the_champion_on_bad_data(
    settings: Settings, make_rows, rows_writer
) -> None:
    from prefect.artifacts import Artifact

    from wirestance.flows.retrain import retrain

    good_rows = make_rows()
    # Same paragraphs and articles, but half the labels scrambled: a weak first champion.
    shuffler = random.Random(7)
    noisy_rows = [{**row, "label": shuffler.choice(LABELS)} if i % 2 else row for i, row in enumerate(good_rows)]
    good = rows_writer("good/rows.jsonl", good_rows)
    noisy = rows_writer("noisy/rows.jsonl", noisy_rows)
    registry = ModelRegistry(settings.models_dir)
    params = {"eval_fraction": 0.25, "seed": 0}

    first = retrain(data_path=str(noisy), **params)
    assert first["promoted"] and "no champion" in first["reason"]
    assert registry.champion_version() == first["challenger_version"]

    better = retrain(data_path=str(good), **params)
    assert better["promoted"], better["reason"]
    assert better["challenger_macro_f1"] > better["champion_macro_f1"]
    assert registry.champion_version() == better["challenger_version"]
    # On the real copy of data/eval, the challenger against the champion on the same rows.
    seed_copy = better["real_copy_comparisons"]["seed_aa_2019-11-26"]
    assert (seed_copy["n_rows"], seed_copy["n_articles"]) == (13, 1)
    assert seed_copy["candidate_macro_f1"] == better["challenger_real_copy_macro_f1"]["seed_aa_2019-11-26"]

    # The same data again: the same training run, so nothing is registered and the champion stays.
    same = retrain(data_path=str(good), **params)
    assert not same["promoted"] and same["reason"].startswith("unchanged")
    assert same["challenger_version"] == better["challenger_version"]
    assert same["evaluation_split_hash"] == better["evaluation_split_hash"]
    assert registry.champion_version() == better["challenger_version"]
    decision = Artifact.get("retrain-decision")
    assert decision is not None and "unchanged" in str(decision.data)
    assert same["evaluation_split_hash"] in str(decision.data)
    assert "challenger against champion" in str(decision.data) and "paired 95% interval" in str(decision.data)
    table = Artifact.get("retrain-scores")
    assert table is not None and "champion" in str(table.data) and "precision" in str(table.data)

    bad = rows_writer("bad/rows.jsonl", [*good_rows, {**good_rows[0], "label": "none"}])
    with pytest.raises(LabeledDataError, match=r"rows\.jsonl line 81 \(none\)"):
        retrain(data_path=str(bad), **params)
    assert registry.champion_version() == better["challenger_version"]
    assert len(registry.versions()) == 2


def test_classifiers_do_not_import_prefect() -> None:
    for path in (Path(__file__).parents[2] / "classifiers").glob("*.py"):
        assert not re.search(r"^\s*(from|import) prefect", path.read_text(encoding="utf-8"), re.MULTILINE), path
