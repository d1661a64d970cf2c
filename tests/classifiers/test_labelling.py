"""Whole articles through the lake: ingest rows with the topic flag, relabelling by article, the labelling
loop (export the least-sure paragraphs, import reviewed labels, list likely label errors)."""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from wirestance.articles import Article
from wirestance.classifiers.dataset import LabeledDataError, load_labeled_data
from wirestance.classifiers.labelling import (
    REVIEW_COLUMNS,
    export_for_review,
    find_label_issues,
    import_reviewed,
    least_sure_spread,
)
from wirestance.classifiers.labels import LABELS
from wirestance.classifiers.model import cross_validate
from wirestance.lake import Lake
from wirestance.pipeline import article_rows
from wirestance.relabel import relabel_paragraphs

PUBLISHED = datetime(2019, 7, 12, 9, 0, tzinfo=UTC)


def make_article(article_id: str, title: str, paragraphs: list[str]) -> Article:
    return Article(
        url=f"https://example.org/{article_id}",
        canonical_url=f"https://example.org/{article_id}",
        source="aa",
        article_id=article_id,
        title=title,
        lede=None,
        authors=[],
        published=PUBLISHED,
        updated=None,
        dateline=None,
        category=None,
        tags=[],
        language="en",
        paragraphs=paragraphs,
        parser_version="test",
    )


ARTICLES = [
    make_article(
        "1",
        "US warns Turkey over S-400",
        [
            "Senator Lindsey Graham said the deadline to drop the S-400 deal expires at the end of July.",
            "He added that the talks would continue after the holiday.",
            "The S-400 can track dozens of targets at ranges of up to 400 kilometres.",
        ],
    ),
    make_article(
        "2",
        "Kremlin on S-400 deliveries",
        [
            "Kremlin spokesman Dmitry Peskov said the first S-400 regiment has been delivered.",
            "She said more details would follow in the coming days.",
        ],
    ),
    make_article(
        "3",
        "Istanbul's tulip festival draws visitors",
        ["Foreign Minister Mevlut Cavusoglu said the festival drew record crowds.", "He added that it ends Sunday."],
    ),
]


@pytest.fixture
def lake(tmp_path: Path, context_model) -> Lake:
    lake = Lake(str(tmp_path / "lake"))
    articles, paragraphs = article_rows([(a, PUBLISHED) for a in ARTICLES], context_model)
    lake.upsert(articles, paragraphs)
    return lake


def test_ingest_rows_label_whole_articles_and_flag_the_topic(lake: Lake) -> None:
    articles = {row["article_id"]: row for row in lake.read("articles").to_pylist()}
    assert [articles[i]["on_topic"] for i in "123"] == [True, True, False]
    assert articles["3"]["topic_score"] < 0.5 < articles["1"]["topic_score"]
    paragraphs = sorted(lake.read("paragraphs").to_pylist(), key=lambda r: (r["article_id"], r["para_index"]))
    labels = {(r["article_id"], r["para_index"]): r["label"] for r in paragraphs}
    assert labels[("1", 1)] == "us_objection" and labels[("2", 1)] == "russian_supplier"
    assert labels[("3", 0)] == labels[("3", 1)] == "none"


def test_relabel_labels_stale_articles_whole(lake: Lake, context_model) -> None:
    class Renamed:
        """The same model under another version, so every stored paragraph is stale."""

        version = "context-model-2"

        def predict(self, texts):
            return context_model.predict(texts)

        def predict_articles(self, articles):
            return context_model.predict_articles(articles)

    counts = relabel_paragraphs(lake, Renamed())
    assert counts.paragraphs_relabelled == 7
    rows = {(r["article_id"], r["para_index"]): r for r in lake.read("paragraphs").to_pylist()}
    # "He added ..." keeps the senator's side only because its article was labelled together.
    assert rows[("1", 1)]["label"] == "us_objection" and rows[("1", 1)]["model_version"] == "context-model-2"
    assert relabel_paragraphs(lake, Renamed()).paragraphs_relabelled == 0


def test_export_then_import_round_trip(lake: Lake, tmp_path: Path) -> None:
    out = tmp_path / "review"
    assert export_for_review(lake, date(2019, 7, 1), date(2019, 8, 1), 5, out) == 5
    assert export_for_review(lake, date(2019, 8, 1), date(2019, 9, 1), 4, tmp_path / "empty") == 0
    rows = [json.loads(line) for line in (out / "review.jsonl").read_text(encoding="utf-8").splitlines()]
    with (out / "review.csv").open(encoding="utf-8", newline="") as handle:
        assert list(csv.DictReader(handle).fieldnames or []) == list(REVIEW_COLUMNS)
    assert all(row["label"] == "" and row["title"] for row in rows)
    per_article = Counter(row["article_id"] for row in rows)
    assert len(per_article) == 3 and max(per_article.values()) == 2  # spread over the articles
    second = next(row for row in rows if row["article_id"] == "1" and row["para_index"] == 1)
    assert second["previous_paragraph"].startswith("Senator Lindsey Graham")

    labeled = tmp_path / "labeled"
    labeled.mkdir()
    (labeled / "old.jsonl").write_text(
        json.dumps(
            {
                "text": "Kremlin spokesman Dmitry Peskov said the first S-400 regiment has been delivered.",
                "label": "russian_supplier",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    for row in rows:
        row["label"] = {"1": "us_objection", "2": "russian_supplier", "3": "none"}[row["article_id"]]
    rows[-1]["label"] = ""  # not reviewed
    reviewed = tmp_path / "reviewed.jsonl"
    reviewed.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    already = sum(1 for r in rows[:-1] if r["text"].startswith("Kremlin spokesman"))
    result = import_reviewed(reviewed, labeled)
    assert (result.added, result.already_labelled, result.not_reviewed) == (4 - already, already, 1)
    data = load_labeled_data(labeled)
    assert len(data) == 1 + result.added
    # Importing the same file again adds nothing.
    assert import_reviewed(reviewed, labeled).added == 0


def test_a_bad_review_file_is_refused_whole(tmp_path: Path) -> None:
    labeled = tmp_path / "labeled"
    labeled.mkdir()
    (labeled / "old.jsonl").write_text(json.dumps({"text": "Known text.", "label": "none"}) + "\n", encoding="utf-8")
    yardstick = ["Dmitry Peskov said on Wednesday that the two presidents had discussed the S-400 supply at length."]
    rows = [
        {"text": "A fine new paragraph about the deal.", "label": "none"},
        {"text": "Another paragraph.", "label": "maybe"},
        {"text": "   ", "label": "none"},
        {"text": "Known text.", "label": "us_objection"},
        {"text": yardstick[0].replace("Wednesday", "Thursday"), "label": "russian_supplier"},
        {"text": "Twice.", "label": "none"},
        {"text": "Twice.", "label": "us_objection"},
    ]
    reviewed = tmp_path / "reviewed.csv"
    with reviewed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "label"])
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(LabeledDataError) as caught:
        import_reviewed(reviewed, labeled, yardstick)
    message = str(caught.value)
    for expected in (
        "line 3: unknown label 'maybe'",
        "line 4: empty text",
        "line 5: text already labelled 'none'",
        "line 6: text is (a near copy of) a yardstick text",
        "line 8: same text as line 7 with another label",
    ):
        assert expected in message
    assert sorted(p.name for p in labeled.iterdir()) == ["old.jsonl"]


def test_least_sure_first_at_most_two_per_article_until_all_had_a_turn() -> None:
    candidates = [("a", 0, 0.01), ("a", 1, 0.02), ("a", 2, 0.03), ("b", 0, 0.5), ("c", 0, 0.9)]
    assert least_sure_spread(candidates, 3) == [("a", 0), ("a", 1), ("b", 0)]
    assert least_sure_spread(candidates, 5)[-1] == ("a", 2)


def test_confident_learning_finds_flipped_labels(tmp_path: Path, make_rows, rows_writer) -> None:
    # Four draws of 6 flipped labels in the 80-row corpus: one draw moves by a label or two with any change
    # of model, the sum of four says whether the search finds most flips and raises few false alarms.
    hits = false_alarms = 0
    for draw in (3, 4, 5, 6):
        rows = make_rows()
        flipped = set(random.Random(draw).sample(range(len(rows)), 6))
        for i in flipped:
            rows[i] = {**rows[i], "label": LABELS[(LABELS.index(rows[i]["label"]) + 1) % len(LABELS)]}
        dataset = load_labeled_data(rows_writer(f"noisy-{draw}.jsonl", rows))
        cv = cross_validate(dataset, n_splits=4)
        assert cv.probabilities is not None and np.allclose(cv.probabilities.sum(axis=1), 1.0)
        issues = find_label_issues(dataset, cv.probabilities)
        found = {int(issue.location.rsplit(" ", 1)[-1]) - 1 for issue in issues}
        hits += len(found & flipped)
        false_alarms += len(found - flipped)
    assert hits >= 12, f"found {hits} of 24 flipped labels"
    assert false_alarms <= 4, f"{false_alarms} false alarms"
