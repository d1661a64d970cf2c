"""Reprocess in worker processes, and labels reused: an article whose paragraphs (all of them, in order) and
model version are stored is never sent to the model again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from stand_ins import FakeModel
from test_reprocess import ingest_with_archive, table_rows

from wirestance.lake import Lake
from wirestance.pipeline import Window
from wirestance.reprocess import ReprocessBatch, StoreCounts, run_reprocess
from wirestance.settings import Settings

ALL_TIME = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
LABEL_COLUMNS = ("label", "confidence", "model_version")


class RefusingModel(FakeModel):
    """A model that must not be asked: its version is the stored one, so every label can be reused."""

    def predict(self, texts: Sequence[str]) -> object:
        raise AssertionError(f"the model was asked to label {len(texts)} paragraphs")


def labels(lake: Lake) -> list[tuple]:
    return [(r["article_id"], r["para_index"], *(r[c] for c in LABEL_COLUMNS)) for r in table_rows(lake, "paragraphs")]


@pytest.mark.parametrize("workers", [0, 2])
def test_reprocess_with_the_stored_model_labels_nothing_and_writes_nothing(settings: Settings, workers: int):
    stored = ingest_with_archive(settings, FakeModel())
    lake = Lake(settings.lake_url)
    before = {t: table_rows(lake, t) for t in ("articles", "paragraphs")}

    [row] = run_reprocess(settings, ALL_TIME, ["anadolu"], RefusingModel(), hosts=["127.0.0.1"], workers=workers)

    assert row["labelled"] == 0 and row["labels_reused"] == 0
    assert row["unchanged"] == row["articles"] == stored
    assert row["new"] == row["updated"] == row["failed"] == 0
    assert {t: table_rows(lake, t) for t in ("articles", "paragraphs")} == before


def test_a_new_model_labels_every_article_once_then_nothing(settings: Settings):
    stored = ingest_with_archive(settings, FakeModel("test-model-1"))
    lake = Lake(settings.lake_url)

    [first] = run_reprocess(settings, ALL_TIME, ["anadolu"], FakeModel("test-model-2"), hosts=["127.0.0.1"])
    assert first["labelled"] == first["updated"] == stored and first["unchanged"] == 0
    assert {r["model_version"] for r in table_rows(lake, "paragraphs")} == {"test-model-2"}
    assert {r["model_version"] for r in table_rows(lake, "articles")} == {"test-model-2"}

    [second] = run_reprocess(settings, ALL_TIME, ["anadolu"], RefusingModel("test-model-2"), hosts=["127.0.0.1"])
    assert second["labelled"] == 0 and second["unchanged"] == stored


def test_after_a_parser_change_unchanged_paragraphs_keep_their_labels(settings: Settings):
    """The stored rows carry another parser version (as after a parser release): the paragraphs are the
    same, so the articles are stored again with the new parser version and their stored labels."""
    stored = ingest_with_archive(settings, FakeModel())
    lake = Lake(settings.lake_url)
    articles, paragraphs = table_rows(lake, "articles"), table_rows(lake, "paragraphs")
    for row in (*articles, *paragraphs):
        row["parser_version"] = "anadolu/older-v0"
    lake.upsert(articles, paragraphs, replace_unchanged=True)
    labels_before = labels(lake)

    [row] = run_reprocess(settings, ALL_TIME, ["anadolu"], RefusingModel(), hosts=["127.0.0.1"], workers=0)

    assert row["labels_reused"] == row["updated"] == stored and row["labelled"] == 0
    assert labels(lake) == labels_before
    assert "anadolu/older-v0" not in {r["parser_version"] for r in table_rows(lake, "articles")}
    assert "anadolu/older-v0" not in {r["parser_version"] for r in table_rows(lake, "paragraphs")}


def test_a_changed_paragraph_relabels_its_article_only(settings: Settings):
    stored = ingest_with_archive(settings, FakeModel())
    lake = Lake(settings.lake_url)
    articles, paragraphs = table_rows(lake, "articles"), table_rows(lake, "paragraphs")
    changed = articles[0]["article_id"]
    for row in articles:
        row["parser_version"] = "anadolu/older-v0"
        if row["article_id"] == changed:
            row["paragraphs_hash"] = "0" * 64  # what another paragraph text would give
    for row in paragraphs:
        row["parser_version"] = "anadolu/older-v0"
    lake.upsert(articles, paragraphs, replace_unchanged=True)

    [row] = run_reprocess(settings, ALL_TIME, ["anadolu"], FakeModel(), hosts=["127.0.0.1"], workers=2)

    assert row["labelled"] == 1 and row["labels_reused"] == stored - 1


@pytest.mark.parametrize("workers", [0, 2])
def test_a_stored_batch_lets_go_of_its_rows(settings: Settings, workers: int):
    """Prefect keeps every task's parameters until the flow run ends: a batch kept after it is stored must not
    keep its rows (nor the labelling futures holding them), or a run's memory grows with the archive."""
    stored = ingest_with_archive(settings, FakeModel("test-model-1"))
    kept: list[ReprocessBatch] = []

    def keep_and_store(batch: ReprocessBatch) -> StoreCounts:
        kept.append(batch)  # what Prefect does with a task's parameters
        return batch.store()

    [row] = run_reprocess(
        settings,
        ALL_TIME,
        ["anadolu"],
        FakeModel("test-model-2"),
        hosts=["127.0.0.1"],
        run_batch=keep_and_store,
        batch_articles=5,
        workers=workers,
    )
    assert row["labelled"] == row["updated"] == stored and len(kept) > 1
    assert all(batch.labelled == [] and all(rows.num_rows == 0 for rows in batch.reused) for batch in kept)
