"""Packed articles carry the hashes computed while parsing: the labelling job's rows are those of labelling the
articles afresh, hashes included, and a caller's hashes must match its articles one to one."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from stand_ins import FakeModel

from wirestance.articles import Article
from wirestance.lake.schema import ARTICLE_ROWS, PARAGRAPH_ROWS, rows_table
from wirestance.pipeline import article_rows, content_hash, paragraphs_hash
from wirestance.workers import WorkerState, label_job, pack, unpack

FETCHED = datetime(2026, 7, 1, 12, tzinfo=UTC)


def article(number: int, paragraphs: list[str]) -> Article:
    return Article(
        url=f"https://www.aa.com.tr/en/turkiye/story/{number}",
        canonical_url=f"https://www.aa.com.tr/en/turkiye/story/{number}",
        source="anadolu",
        article_id=str(number),
        title=f"Story {number}",
        lede=None,
        authors=["Staff"],
        published=datetime(2026, 6, 30, number % 24, tzinfo=UTC),
        updated=None,
        dateline="ANKARA",
        category="turkiye",
        tags=["S-400"],
        language="en",
        paragraphs=paragraphs,
        parser_version="anadolu-test",
    )


ARTICLES = [
    article(1, ["Ankara said the S-400 deal stands.", "Washington objected."]),
    article(2, ["Moscow confirmed the delivery.", "", "Erdoğan’s office said nothing."]),
    article(3, []),
]


def test_the_labelling_job_gives_the_rows_of_labelling_the_articles_afresh():
    model = FakeModel()
    parked = [pack(a, FETCHED) for a in ARTICLES]
    assert [(p.content_hash, p.paragraphs_hash) for p in parked] == [
        (content_hash(a), paragraphs_hash(a)) for a in ARTICLES
    ]
    assert [unpack(p.packed) for p in parked] == [(a, FETCHED) for a in ARTICLES]

    article_columns, paragraph_columns = label_job(WorkerState(model_source=model), [p.packed for p in parked])
    article_table, paragraph_table = (
        rows_table(article_columns, ARTICLE_ROWS),
        rows_table(paragraph_columns, PARAGRAPH_ROWS),
    )

    expected_articles, expected_paragraphs = article_rows([(a, FETCHED) for a in ARTICLES], model)
    assert article_table.equals(pa.Table.from_pylist(expected_articles, schema=ARTICLE_ROWS))
    assert paragraph_table.equals(pa.Table.from_pylist(expected_paragraphs, schema=PARAGRAPH_ROWS))
    assert article_table.num_rows == 3 and paragraph_table.num_rows == 5


def test_hashes_given_for_other_articles_are_refused():
    with pytest.raises(ValueError, match="2 hashes for 3 articles"):
        article_rows([(a, FETCHED) for a in ARTICLES], FakeModel(), [("a", "b")] * 2)


def test_the_content_hash_is_the_one_stored_rows_hold():
    """Stored article rows keep their content hash: computing it another way must not change a value (or
    every stored article would look changed to the next reprocess). The definition: SHA-256 of the JSON of
    `dataclasses.asdict` without the fetch and parser fields."""
    fetched_elsewhere = replace(
        ARTICLES[1],
        url="http://127.0.0.1:8000/en/turkiye/story/2",
        capture_time=FETCHED,
        capture_origin="wayback",
        parser_version="anadolu-other",
        payload_digest="sha1:ABC",
    )
    for one in [*ARTICLES, fetched_elsewhere]:
        content = asdict(one)
        for key in ("url", "capture_time", "capture_origin", "parser_version", "payload_digest"):
            del content[key]
        payload = json.dumps(content, default=str, sort_keys=True, ensure_ascii=False)
        assert content_hash(one) == hashlib.sha256(payload.encode("utf-8")).hexdigest()
    assert content_hash(fetched_elsewhere) == content_hash(ARTICLES[1])
    assert content_hash(ARTICLES[0]) == PINNED_HASH


PINNED_HASH = "9798663cd4bac8f21edce6fbbe2852f9eab3b6148f9f3b1a909c928a575d5346"
