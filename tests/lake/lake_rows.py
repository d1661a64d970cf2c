"""Rows for lake tests, and the writer process of the many-writers tests (importable by spawned children)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from wirestance.lake import Lake
from wirestance.lake.schema import PROBABILITY_COLUMNS

DAY = date(2019, 11, 26)
T0 = datetime(2019, 11, 26, 9, tzinfo=UTC)


def article(article_id: str, day: date, *, content: str = "v1", updated: datetime | None = None) -> dict:
    published = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    return {
        "source": "anadolu",
        "article_id": article_id,
        "url": f"https://www.aa.com.tr/en/politics/x/{article_id}",
        "canonical_url": f"https://www.aa.com.tr/en/politics/x/{article_id}",
        "title": f"title {article_id} {content}",
        "lede": None,
        "authors": ["A"],
        "published": published,
        "updated": updated or published,
        "dateline": "ANKARA",
        "category": "Politics",
        "tags": [],
        "language": "en",
        "n_paragraphs": 2,
        "content_hash": f"{article_id}-{content}",
        "fetched_at": datetime.now(UTC),
        "capture_time": None,
        "capture_origin": None,
        "parser_version": "test",
        "schema_version": 1,
        "published_date": day,
    }


def paragraphs(article_id: str, content: str = "v1", n: int = 2) -> list[dict]:
    return [
        {
            "source": "anadolu",
            "article_id": article_id,
            "para_index": i,
            "text": f"{article_id} paragraph {i} {content}",
            "label": "none",
            "confidence": 0.9,
            **dict.fromkeys(PROBABILITY_COLUMNS, 0.25),
            "model_version": "m1",
            "parser_version": "test",
            "schema_version": 1,
        }
        for i in range(n)
    ]


def versioned(article_id: str, version: int) -> tuple[dict, list[dict]]:
    """Version `version` of an article: updated later with each version, on a date that moves between three
    days, with 1-4 paragraphs, so the newest version written decides row, date and paragraphs."""
    day = DAY + timedelta(days=version % 3)
    row = article(article_id, day, content=f"v{version}", updated=T0 + timedelta(hours=version))
    row["n_paragraphs"] = 1 + version % 4
    return row, paragraphs(article_id, f"v{version}", 1 + version % 4)


def write_versions(lake_url: str, storage_options: dict[str, str], seed: int, batches: int, size: int, keys: int):
    """One writer process: `batches` upserts of `size` random articles (of `keys`) at random versions.
    Returns every (article_id, version) it offered and how many articles its upserts counted as new."""
    rng = random.Random(seed)
    lake = Lake(lake_url, storage_options=storage_options)
    offered = []
    new = 0
    for _ in range(batches):
        rows, paras = [], []
        for article_id in rng.sample(range(keys), size):
            version = rng.randrange(12)
            row, para = versioned(f"a{article_id:03d}", version)
            rows.append(row)
            paras.extend(para)
            offered.append((row["article_id"], version))
        new += lake.upsert(rows, paras).new
    return offered, new


def archive_pages(raw_url: str, lake_url: str, storage_options: dict[str, str], writer: int, pages: int) -> int:
    """One writer process recording `pages` exchanges in the raw archive at `raw_url` (fsspec: s3fs reads the
    same endpoint and keys from the environment), each sealed file indexed in the lake's raw_index."""
    import os

    from wirestance.archive.writer import Exchange, WarcWriter

    os.environ.update(storage_options)
    archive = WarcWriter(raw_url, Lake(lake_url, storage_options=storage_options), max_file_bytes=3_000)
    for i in range(pages):
        body = f"<html><p>writer {writer} page {i}</p>{'x' * 400}</html>".encode()
        when = T0 + timedelta(minutes=i, seconds=writer)
        headers = {"content-type": "text/html"}
        url = f"https://www.aa.com.tr/en/x/{writer}-{i}"
        archive.write(Exchange("GET", url, {"User-Agent": "t"}, None, 200, headers, body, when))
    archive.close()
    return pages
