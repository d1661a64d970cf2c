"""The lake's tables, defined once. Bump SCHEMA_VERSION on any change and say what changed below.

1: articles, paragraphs (with stance labels), failures.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 1

#: Stance labels in the order of the probability columns.
STANCE_LABELS = ("russian_supplier", "turkish_government", "us_objection", "none")
PROBABILITY_COLUMNS = tuple(f"p_{label}" for label in STANCE_LABELS)

_TS = pa.timestamp("us", tz="UTC")

#: Hive partition column of articles and paragraphs: the publication date as the source printed it
#: (the article's own UTC offset), so an AA story of 26.11.2019 lands in 2019-11-26 even at 00:30 Istanbul.
PARTITION_COLUMN = "published_date"

ARTICLES = pa.schema(
    [
        ("source", pa.string()),
        ("article_id", pa.string()),
        ("url", pa.string()),
        ("canonical_url", pa.string()),
        ("title", pa.string()),
        ("lede", pa.string()),
        ("authors", pa.list_(pa.string())),
        ("published", _TS),
        ("updated", _TS),
        ("dateline", pa.string()),
        ("category", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("language", pa.string()),
        ("n_paragraphs", pa.int32()),
        ("content_hash", pa.string()),
        ("fetched_at", _TS),
        ("capture_time", _TS),
        ("capture_origin", pa.string()),
        ("parser_version", pa.string()),
        ("schema_version", pa.int16()),
    ]
)
ARTICLE_KEY = ("source", "article_id")

PARAGRAPHS = pa.schema(
    [
        ("source", pa.string()),
        ("article_id", pa.string()),
        ("para_index", pa.int32()),
        ("text", pa.string()),
        ("label", pa.string()),
        ("confidence", pa.float32()),
        *[(column, pa.float32()) for column in PROBABILITY_COLUMNS],
        ("model_version", pa.string()),
        ("parser_version", pa.string()),
        ("schema_version", pa.int16()),
    ]
)
PARAGRAPH_KEY = ("source", "article_id", "para_index")

FAILURES = pa.schema(
    [
        ("url", pa.string()),
        ("source", pa.string()),
        ("stage", pa.string()),  # discover | fetch | parse | classify | store
        ("reason", pa.string()),
        ("failed_at", _TS),
        ("run_id", pa.string()),
        ("schema_version", pa.int16()),
    ]
)
FAILURE_PARTITION_COLUMN = "failed_date"

TABLES: dict[str, pa.Schema] = {"articles": ARTICLES, "paragraphs": PARAGRAPHS, "failures": FAILURES}
