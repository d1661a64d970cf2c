"""The lake's tables, defined once. Bump SCHEMA_VERSION on any change and say what changed below.

1: articles, paragraphs (with stance labels), failures.
2: raw_index, one row per response or revisit record of the raw WARC archive (wirestance.archive).
3: articles.paragraphs_hash (digest of the paragraph texts in order) and articles.model_version (the model that
   labelled its paragraphs): a reprocess reuses stored labels while both are unchanged.
4: raw_index's dedup key column `canonical_url` renamed `url_key` (articles.canonical_url is the page's declared
   URL). Older index files read with a null url_key; nothing selects on it (records are chosen by host).
5: articles.on_topic, articles.topic_score: is the article about the S-400 dispute (null: labelled by a
   model that does not say).
6: articles.payload_digest: the WARC payload digest of the response the article was parsed from (null:
   stored before, or not parsed from a fetched or archived response).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

# The stance labels and their probability columns: one label set, defined in wirestance.labels.
from wirestance.labels import PROBABILITY_COLUMNS
from wirestance.labels import STANCE_LABELS as STANCE_LABELS

SCHEMA_VERSION = 6

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
        ("paragraphs_hash", pa.string()),
        ("model_version", pa.string()),
        ("fetched_at", _TS),
        ("capture_time", _TS),
        ("capture_origin", pa.string()),
        ("parser_version", pa.string()),
        ("schema_version", pa.int16()),
        ("on_topic", pa.bool_()),
        ("topic_score", pa.float32()),
        ("payload_digest", pa.string()),
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

RAW_INDEX = pa.schema(
    [
        ("url", pa.string()),  # WARC-Target-URI: what was asked (a Wayback id_ URL for an archived capture)
        ("url_key", pa.string()),  # the article's dedup key (the original URL for a capture)
        ("host", pa.string()),  # host of url_key, for selecting a source's records
        ("fetch_time", _TS),  # WARC-Date
        ("status", pa.int16()),
        ("content_type", pa.string()),
        ("payload_digest", pa.string()),  # "sha1:<base32>", as in WARC-Payload-Digest
        ("record_type", pa.string()),  # response | revisit
        ("record_id", pa.string()),
        ("file", pa.string()),  # relative to Settings.raw_url
        ("offset", pa.int64()),  # of the record's gzip member in the file
        ("length", pa.int64()),  # of that gzip member
        ("schema_version", pa.int16()),
    ]
)
RAW_INDEX_PARTITION_COLUMN = "fetch_date"

TABLES: dict[str, pa.Schema] = {
    "articles": ARTICLES,
    "paragraphs": PARAGRAPHS,
    "failures": FAILURES,
    "raw_index": RAW_INDEX,
}


def partition_column(table: str) -> str:
    return {"failures": FAILURE_PARTITION_COLUMN, "raw_index": RAW_INDEX_PARTITION_COLUMN}.get(table, PARTITION_COLUMN)


def full_schema(table: str) -> pa.Schema:
    """The table's columns and, last, its partition column (a date): what a reader of the table sees."""
    return TABLES[table].append(pa.field(partition_column(table), pa.date32()))


#: The rows `Lake.upsert` takes, as Arrow tables: an article row carries its partition column (the printed
#: date); a paragraph row does not (it goes where its article goes).
ARTICLE_ROWS = full_schema("articles")
PARAGRAPH_ROWS = PARAGRAPHS


def conform(rows: pa.Table, wanted: pa.Schema) -> pa.Table:
    """`rows` with exactly the columns of `wanted`, in its order and types: a column missing from `rows` is all
    nulls (columns added since the rows were written), one not in `wanted` is dropped."""
    if rows.schema.equals(wanted):
        return rows
    present = set(rows.column_names)
    arrays = [
        rows.column(field.name).cast(field.type) if field.name in present else pa.nulls(rows.num_rows, field.type)
        for field in wanted
    ]
    return pa.Table.from_arrays(arrays, schema=wanted)


#: Rows as one list per column (a reprocess worker's `label_job` sends them so: see its docstring).
Columns = dict[str, list[Any]]


def rows_table(rows: list[dict[str, Any]] | Columns | pa.Table, wanted: pa.Schema) -> pa.Table:
    """Rows given as dicts (keys not in `wanted` ignored, missing ones null), as one list per column (every
    column of `wanted`) or as an Arrow table, as a table of `wanted`."""
    if isinstance(rows, pa.Table):
        return conform(rows, wanted)
    if isinstance(rows, dict):
        return pa.Table.from_pydict(rows, schema=wanted)
    return pa.Table.from_pylist(rows, schema=wanted)
