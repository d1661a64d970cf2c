"""Relabelling stored paragraphs with the champion: every stale row once, then nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from wirestance.classifiers.predict import ArticlePredictions, Predictions
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


class AlwaysOffTopic(EverythingIsNone):
    """A labeller that labels whole articles and calls every article off the topic."""

    version = "always-off-topic-1"

    def predict_articles(self, articles: Sequence[object]) -> list[ArticlePredictions]:
        return [
            ArticlePredictions(self.predict(list(article.paragraphs)), on_topic=False, topic_score=0.125)  # type: ignore[attr-defined]
            for article in articles
        ]


def _articles(lake: Lake):
    columns = ["source", "article_id", "on_topic", "topic_score", "model_version"]
    return (
        lake.read("articles", columns=columns).to_pandas().sort_values(["source", "article_id"]).reset_index(drop=True)
    )


def test_reclassify_updates_the_article_topic_columns(lake_env: Path, sample_server: ReplayServer):
    ingest(
        # Dispute stories and two off-topic pieces (the TurkStream opening, the Idlib cease-fire).
        start=datetime(2019, 11, 1, tzinfo=UTC),
        end=datetime(2020, 4, 1, tzinfo=UTC),
        feed_base_url=sample_server.base_url,
    )
    lake = Lake(str(lake_env))
    before = _articles(lake)
    assert set(before["on_topic"]) == {True, False} and before["topic_score"].notna().all()
    champion_version = before["model_version"].iloc[0]

    off = relabel_paragraphs(lake, AlwaysOffTopic())
    assert off.articles_updated == len(before)
    relabelled = _articles(lake)
    assert not relabelled["on_topic"].any()
    assert np.allclose(relabelled["topic_score"], 0.125)
    assert set(relabelled["model_version"]) == {AlwaysOffTopic.version}

    # A model that says nothing about the topic leaves the columns null, as ingest would store them.
    relabel_paragraphs(lake, EverythingIsNone())
    silent = _articles(lake)
    assert silent["on_topic"].isna().all() and silent["topic_score"].isna().all()

    summary = reclassify()
    assert summary["articles_updated"] == len(before)
    after = _articles(lake)
    assert after["on_topic"].tolist() == before["on_topic"].tolist()
    assert np.allclose(after["topic_score"], before["topic_score"], atol=1e-6)
    assert set(after["model_version"]) == {champion_version}
    assert reclassify()["articles_updated"] == 0

    # Paragraphs already of the champion's version, article rows not (a run stopped between the two
    # commits): the next run labels those articles again and writes their topic columns.
    def forget_topic(table):
        n = table.num_rows
        table = table.set_column(table.schema.get_field_index("on_topic"), "on_topic", pa.nulls(n, pa.bool_()))
        table = table.set_column(table.schema.get_field_index("topic_score"), "topic_score", pa.nulls(n, pa.float32()))
        return table.set_column(table.schema.get_field_index("model_version"), "model_version", pa.array(["old"] * n))

    lake.rewrite_articles(forget_topic)
    assert reclassify()["articles_updated"] == len(before)
    after = _articles(lake)
    assert after["on_topic"].tolist() == before["on_topic"].tolist()
    assert after["model_version"].tolist() == before["model_version"].tolist()
