"""Four writer processes upserting overlapping articles (with date moves) into one lake, on the local file
system and on a real S3 server: every article once, at its newest version, with exactly its paragraphs."""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from lake_rows import archive_pages, versioned, write_versions
from s3_server import S3Server

from wirestance.lake import Lake

WRITERS = 4
REPEATS = 5
BATCHES = 4  # per writer and repeat
BATCH_SIZE = 8
KEYS = 24  # so writers collide on most articles
SECONDS = 120  # a hang fails the test instead of stalling the suite


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    # deltalake panics in a forked child: spawn.
    with ProcessPoolExecutor(WRITERS, mp_context=multiprocessing.get_context("spawn")) as executor:
        yield executor


def run_writers(pool: ProcessPoolExecutor, url: str, options: dict[str, str], round_: int) -> None:
    futures = [
        pool.submit(write_versions, url, options, round_ * 100 + writer, BATCHES, BATCH_SIZE, KEYS)
        for writer in range(WRITERS)
    ]
    results = [future.result(timeout=SECONDS) for future in futures]
    newest: dict[str, int] = {}
    for offered, _ in results:
        for article_id, version in offered:
            newest[article_id] = max(version, newest.get(article_id, -1))
    check_lake(Lake(url, storage_options=options), newest, sum(new for _, new in results))


def check_lake(lake: Lake, newest: dict[str, int], counted_new: int) -> None:
    articles = lake.read("articles").to_pylist()
    ids = [row["article_id"] for row in articles]
    assert len(ids) == len(set(ids)), "an article stored twice"
    assert set(ids) == set(newest), "an article lost"
    assert counted_new == len(newest)  # each article counted new by exactly one writer
    expected_paragraphs = set()
    for row in articles:
        want, paras = versioned(row["article_id"], newest[row["article_id"]])
        assert (row["content_hash"], row["published_date"]) == (want["content_hash"], want["published_date"])
        expected_paragraphs |= {(p["article_id"], p["para_index"], p["text"], want["published_date"]) for p in paras}
    stored = lake.read("paragraphs", columns=["article_id", "para_index", "text", "published_date"]).to_pylist()
    got = [(p["article_id"], p["para_index"], p["text"], p["published_date"]) for p in stored]
    assert len(got) == len(set(got)), "a paragraph stored twice"
    assert set(got) == expected_paragraphs


@pytest.mark.slow
def test_four_writers_on_the_local_file_system(pool: ProcessPoolExecutor, tmp_path: Path):
    for round_ in range(REPEATS):
        run_writers(pool, str(tmp_path / f"lake-{round_}"), {}, round_)


@pytest.mark.slow
def test_four_writers_on_s3(pool: ProcessPoolExecutor, s3_server: S3Server):
    for round_ in range(REPEATS):
        run_writers(pool, s3_server.url(f"many-{uuid.uuid4().hex[:8]}"), s3_server.storage_options, round_)


def test_the_s3_server_refuses_a_second_create(s3_server: S3Server):
    """delta-rs commits a version by PUT with If-None-Match: * ; this server answers 412 for an existing key,
    so of two writers racing for a version exactly one wins (no lock service needed)."""
    key = f"cond-{uuid.uuid4().hex}"
    assert s3_server.put(key, b"first", {"If-None-Match": "*"}) == 200
    assert s3_server.put(key, b"second", {"If-None-Match": "*"}) == 412


@pytest.mark.slow
def test_four_archive_writers_on_s3_with_the_raw_archive_beside_the_lake(
    pool: ProcessPoolExecutor, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
):
    """WARC files under s3://bucket/<run>/raw, their index committed by 4 processes into the lake beside
    them: every record indexed once, every body read back, and the index rebuilt from the files alone."""
    from wirestance.archive.reader import ArchiveReader
    from wirestance.archive.writer import rebuild_raw_index, sealed_files

    for name, value in s3_server.storage_options.items():
        monkeypatch.setenv(name, value)
    run = uuid.uuid4().hex[:8]
    raw, lake_url = s3_server.url(f"{run}/raw"), s3_server.url(f"{run}/lake")
    options = s3_server.storage_options
    futures = [pool.submit(archive_pages, raw, lake_url, options, writer, 12) for writer in range(WRITERS)]
    assert sum(future.result(timeout=SECONDS) for future in futures) == 48
    lake = Lake(lake_url, storage_options=options)
    index = lake.read("raw_index").to_pylist()
    assert sorted(row["url"] for row in index) == sorted(
        f"https://www.aa.com.tr/en/x/{w}-{i}" for w in range(WRITERS) for i in range(12)
    )
    files = set(sealed_files(raw))
    assert {row["file"] for row in index} == files and len(files) > WRITERS
    with ArchiveReader(raw, lake) as reader:
        bodies = sorted(r.body for r in reader.responses())
    assert len(bodies) == 48 and not reader.problems
    before = sorted((row["file"], row["offset"], row["record_id"]) for row in index)
    assert rebuild_raw_index(raw, lake) == (len(files), 48)
    after = sorted((row["file"], row["offset"], row["record_id"]) for row in lake.read("raw_index").to_pylist())
    assert after == before
