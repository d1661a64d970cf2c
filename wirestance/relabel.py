"""Relabel stored paragraphs with a (new) model, partition by partition; rows already labelled by it stay."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wirestance.lake import Lake
from wirestance.lake.schema import ARTICLES, PARAGRAPHS, PROBABILITY_COLUMNS
from wirestance.pipeline import StanceLabeller
from wirestance.resources import Resources

ArticleKey = tuple[str, str]
#: (on_topic, topic_score) of an article; (None, None) from a model that does not say (as ingest stores it).
Topic = tuple[bool | None, float | None]


@dataclass
class RelabelCounts:
    partitions_rewritten: int = 0
    paragraphs_relabelled: int = 0
    articles_updated: int = 0


def relabel_paragraphs(
    lake: Lake, model: StanceLabeller, on_partition: Callable[[], None] | None = None
) -> RelabelCounts:
    """Give every paragraph not yet labelled by `model` its label, and every article row the topic flag
    (`on_topic`, `topic_score`) and `model_version` of that labelling; running it twice changes nothing.
    `on_partition` hears each paragraphs partition read (the CLI's progress bar).

    An article is stale when any of its paragraphs or its own row carries another model version. It is
    labelled again whole, its paragraphs in para_index order, with its stored title and lede (a model with
    predict_articles uses them, as ingest did). Paragraphs are committed first, article rows second: a run
    stopped between the two leaves article rows of the old version, which the next run labels again.
    """
    counts = RelabelCounts()
    stored = lake.read("articles", columns=["source", "article_id", "title", "lede", "model_version"]).to_pylist()
    headlines = {(row["source"], row["article_id"]): (row["title"], row["lede"]) for row in stored}
    stale_rows = {(row["source"], row["article_id"]) for row in stored if row["model_version"] != model.version}
    topics: dict[ArticleKey, Topic] = {}

    def relabel(table: pa.Table) -> pa.Table | None:
        if on_partition is not None:  # a progress bar's step: one partition read
            on_partition()
        sources = table["source"].to_pylist()
        article_ids = table["article_id"].to_pylist()
        stale_paragraph = pc.fill_null(pc.not_equal(table["model_version"], model.version), True)
        stale_article = pa.array([key in stale_rows for key in zip(sources, article_ids, strict=True)], pa.bool_())
        stale = pc.or_(stale_paragraph, stale_article)
        if not pc.any(stale).as_py():
            return None
        para_indexes = table["para_index"].to_pylist()
        stale_articles = {(sources[i], article_ids[i]) for i in np.flatnonzero(stale.to_numpy(zero_copy_only=False))}
        members: dict[tuple[str, str], list[int]] = {}
        for i, key in enumerate(zip(sources, article_ids, strict=True)):
            if key in stale_articles:
                members.setdefault(key, []).append(i)
        groups = [sorted(rows, key=lambda i: para_indexes[i]) for rows in members.values()]
        texts = table["text"].to_pylist()
        articles = [
            _Paragraphs(
                [texts[i] for i in rows], *headlines.get((sources[rows[0]], article_ids[rows[0]]), (None, None))
            )
            for rows in groups
        ]
        labels, confidence, probabilities, article_topics = _label_groups(model, articles)
        for rows, topic in zip(groups, article_topics, strict=True):
            topics[(sources[rows[0]], article_ids[rows[0]])] = topic
        positions = np.array([i for rows in groups for i in rows], dtype=np.int64)
        columns = {name: table[name].to_numpy(zero_copy_only=False).copy() for name in _LABEL_COLUMNS}
        columns["label"][positions] = labels
        columns["confidence"][positions] = confidence
        for index, name in enumerate(PROBABILITY_COLUMNS):
            columns[name][positions] = probabilities[:, index]
        columns["model_version"][positions] = model.version
        for name, values in columns.items():
            table = table.set_column(
                table.schema.get_field_index(name), name, pa.array(values, PARAGRAPHS.field(name).type)
            )
        counts.paragraphs_relabelled += int(positions.size)
        return table

    def update_articles(table: pa.Table) -> pa.Table | None:
        keys = list(zip(table["source"].to_pylist(), table["article_id"].to_pylist(), strict=True))
        changed = [i for i, key in enumerate(keys) if key in topics]
        if not changed:
            return None
        columns = {name: table[name].to_pylist() for name in _ARTICLE_COLUMNS}
        for i in changed:
            columns["on_topic"][i], columns["topic_score"][i] = topics[keys[i]]
            columns["model_version"][i] = model.version
        for name, values in columns.items():
            table = table.set_column(
                table.schema.get_field_index(name), name, pa.array(values, ARTICLES.field(name).type)
            )
        counts.articles_updated += len(changed)
        return table

    counts.partitions_rewritten = lake.rewrite_paragraphs(relabel)
    if topics:
        lake.rewrite_articles(update_articles)
    return counts


@dataclass(frozen=True)
class _Paragraphs:
    """An article as predict_articles expects it, built from stored paragraphs."""

    paragraphs: list[str]
    title: str | None = None
    lede: str | None = None


def _label_groups(
    model: StanceLabeller, articles: list[_Paragraphs]
) -> tuple[list[str], np.ndarray, np.ndarray, list[Topic]]:
    """Labels, confidences and probabilities of every paragraph, and the topic flag of every article."""
    predict_articles = getattr(model, "predict_articles", None)
    topics: list[Topic]
    if predict_articles is None:
        predictions = [model.predict([text for article in articles for text in article.paragraphs])]
        topics = [(None, None)] * len(articles)
    else:
        results = predict_articles(articles)
        predictions = [result.predictions for result in results]
        topics = [(bool(result.on_topic), float(result.topic_score)) for result in results]
    labels = [label for p in predictions for label in p.labels]
    confidence = np.concatenate([np.asarray(p.confidence, dtype=np.float64) for p in predictions])
    probabilities = np.vstack([np.asarray(p.probabilities, dtype=np.float64).reshape(-1, 4) for p in predictions])
    return labels, confidence, probabilities, topics


def reclassify(resources: Resources, on_partition: Callable[[], None] | None = None) -> dict[str, int | str]:
    """Relabel the lake's stale paragraphs with the run's model; a one-row summary (the model's version and
    the counts). `on_partition` hears each partition read (the CLI's progress bar)."""
    model = resources.model
    counts = relabel_paragraphs(resources.lake, model, on_partition)
    return {"model_version": model.version, **asdict(counts)}


_LABEL_COLUMNS = ("label", "confidence", *PROBABILITY_COLUMNS, "model_version")
_ARTICLE_COLUMNS = ("on_topic", "topic_score", "model_version")
