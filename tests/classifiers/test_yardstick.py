"""The real-copy yardstick (../shared/stance-dev/) is never training data, not even as a near copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from wirestance.classifiers.dataset import LabeledDataset, load_labeled_data
from wirestance.classifiers.nearcopy import NEAR_COPY_JACCARD, NearCopyIndex
from wirestance.settings import Settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def yardstick() -> tuple[LabeledDataset, NearCopyIndex]:
    """The yardstick and its near-copy index, built once for every folder checked against it."""
    dev_set = Settings(labeled_dir=str(REPO / "data" / "labeled")).dev_set or str(
        REPO.parent / "shared" / "stance-dev" / "dev.jsonl"
    )
    if not Path(dev_set).is_file():
        pytest.skip(f"no yardstick at {dev_set}")
    rows = load_labeled_data(dev_set)
    return rows, NearCopyIndex(rows.texts)


@pytest.mark.parametrize("folder", ["labeled", "candidates"])
def test_no_yardstick_text_or_near_copy_is_in_the_training_data(
    folder: str, yardstick: tuple[LabeledDataset, NearCopyIndex]
) -> None:
    """data/candidates/ holds written articles measured and not (yet) adopted: one move from training data."""
    reference, index = yardstick
    training = load_labeled_data(REPO / "data" / folder)
    copies = index.near_copies(training.texts)
    found = [
        f"{training.rows[c.text_index].location} ~ {reference.rows[c.reference_index].location} "
        f"(Jaccard {c.jaccard:.2f})"
        for c in copies
    ]
    assert not found, f"yardstick text in data/{folder}/: " + "; ".join(found)


def test_the_near_copy_check_catches_a_light_rewording_and_spares_a_new_text() -> None:
    reference = (
        "Alexander Mikheev, head of Rosoboronexport, said on Tuesday that the first S-400 regiment had been "
        "delivered to Turkey ahead of schedule and that crews had finished their training."
    )
    index = NearCopyIndex([reference, "Something else entirely about the weather in Ankara."])
    reworded = reference.replace("said on Tuesday", "stated on Wednesday").replace("crews", "the crews")
    independent = "Russia's arms exporter says the Turkish order is complete; the training of operators also ended."
    assert [c.reference_index for c in index.near_copies([reworded, reference.upper()])] == [0, 0]
    assert index.near_copies([independent]) == []
    match = index.best_match(independent)
    assert match is not None and match[1] < NEAR_COPY_JACCARD
