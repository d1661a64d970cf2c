"""Full and read-only disks, on real small file systems (a tmpfs mounted by the test; skipped with the
reason where mounting is not allowed): the raw archive stays readable, errors say what happened, the
failures of finished batches are kept, and what a failed write left behind is cleaned up at next start."""

from __future__ import annotations

import errno
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fault_run import batch_with_failures, fill, lake_failures, remount_read_only, small_tmpfs, stored_ids
from hostile import HostileServer, article_html, article_path, rss

from wirestance.archive.reader import ArchiveReader
from wirestance.archive.scan import WarcProblem, scan_warc
from wirestance.archive.writer import Exchange, WarcWriter, sealed_files
from wirestance.cli import main
from wirestance.lake import Lake
from wirestance.pipeline import Window, discover
from wirestance.resources import Resources
from wirestance.settings import Settings

ALL_TIME = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
PUB = "Sat, 05 Apr 2025 10:00:00 +0300"


def exchange(n: int) -> Exchange:
    return Exchange(
        "GET",
        f"https://www.aa.com.tr/en/politics/p/{n}",
        {"User-Agent": "t"},
        None,
        200,
        {"content-type": "text/html"},
        os.urandom(60_000),  # incompressible: the disk fills after a known number of records
        datetime(2025, 4, 5, 10, 0, tzinfo=UTC) + timedelta(seconds=n),
    )


def test_raw_archive_stays_readable_after_a_full_disk(tmp_path: Path):
    with small_tmpfs(tmp_path / "raw", "1m") as raw:
        filler = raw / "room"
        filler.write_bytes(os.urandom(300_000))
        lake = Lake(str(tmp_path / "lake"))
        writer = WarcWriter(str(raw), lake)
        written = []
        for n in range(100):
            try:
                writer.write(exchange(n))
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
            written.append(n)
        else:
            pytest.fail("the 1 MB file system never filled")
        filler.unlink()  # room again: the records after the failed one must land at the indexed offsets
        for n in range(200, 204):
            writer.write(exchange(n))
            written.append(n)
        writer.close()

        index = lake.read("raw_index").to_pylist()
        assert sorted(int(row["url"].rsplit("/", 1)[1]) for row in index) == written
        with ArchiveReader(str(raw), lake) as reader:
            for row in index:
                record = reader.read_record(row["file"], row["offset"], row["length"])
                assert not isinstance(record, WarcProblem), record
                assert record.target_uri == row["url"]
        for relative in sealed_files(str(raw)):
            with open(raw / relative, "rb") as handle:
                problems = [item for item in scan_warc(handle, relative) if isinstance(item, WarcProblem)]
            assert problems == [], problems


@pytest.mark.slow
def test_full_raw_archive_is_an_archive_failure_never_robots(
    tmp_path: Path, hostile: HostileServer, settings: Settings, champion
):
    ids = ["51", "52", "53"]
    for article_id in ids:
        hostile.page(article_path(article_id), article_html(article_id))
    feed = hostile.page("/en/rss/default?cat=all", rss(hostile.base_url, [(article_path(i), PUB) for i in ids]))
    with small_tmpfs(tmp_path / "rawfs", "2m") as raw:
        settings = Settings(**{**settings.__dict__, "raw_url": str(raw)})
        runtime = Resources(settings, model=champion)
        # Full before anything is fetched: robots.txt itself cannot be archived. That is our disk's fault,
        # so the host must not be taken as disallowed (it used to be, for the life of the process).
        filler = fill(raw)
        blocked = discover(runtime, "anadolu", None, ALL_TIME, hostile.base_url, feed_urls=[feed])
        assert blocked.items == [] and len(blocked.failures) == 1
        assert "raw archive write failed" in blocked.failures[0].reason
        assert "No space left on device" in blocked.failures[0].reason
        assert "disallowed" not in blocked.failures[0].reason
        filler.unlink()
        found = discover(runtime, "anadolu", None, ALL_TIME, hostile.base_url, feed_urls=[feed])
        assert len(found.items) == 3 and found.failures == []
        runtime.flush()

        filler = fill(raw)  # full again while the articles are fetched
        started = time.monotonic()
        urls = [item.url for item in found.items]
        full = batch_with_failures(runtime, urls, champion, hostile.base_url, run_id="full-raw")
        assert time.monotonic() - started < 10
        assert [f.stage for f in full.failures] == ["archive"] * 3
        for row in lake_failures(settings):
            assert "raw archive write failed" in row["reason"] and "No space left on device" in row["reason"]
            assert "disallowed" not in row["reason"]
        assert stored_ids(settings) == []

        filler.unlink()  # the same process, the same fetcher: every page is fetched and stored now
        again = batch_with_failures(runtime, urls, champion, hostile.base_url)
        runtime.close()
    assert again.failures == [] and again.counts.new == 3
    assert stored_ids(settings) == ids


def test_full_lake_keeps_earlier_failures_and_cleans_the_failed_write_at_next_start(
    tmp_path: Path, hostile: HostileServer, settings: Settings, champion
):
    missing = [hostile.base_url + article_path(str(n)) for n in (61, 62, 63)]
    good = ["71", "72"]
    for article_id in good:
        hostile.page(article_path(article_id), article_html(article_id))
    with small_tmpfs(tmp_path / "lakefs", "4m") as lake_root:
        settings = Settings(**{**settings.__dict__, "lake_url": str(lake_root)})
        runtime = Resources(settings, model=champion)
        batch_with_failures(runtime, missing, champion, hostile.base_url, run_id="full-lake")
        filler = fill(lake_root)
        started = time.monotonic()
        urls = [hostile.base_url + article_path(i) for i in good] + [hostile.base_url + article_path("64")]
        outcome = batch_with_failures(runtime, urls, champion, hostile.base_url, run_id="full-lake")
        runtime.close()
        assert time.monotonic() - started < 10
        assert sorted(f.stage for f in outcome.failures) == ["fetch", "store", "store"]
        assert all("No space left on device" in f.reason for f in outcome.failures if f.stage == "store")
        kept = lake_failures(settings)  # the first batch's, written before the disk filled
        assert sorted(f["url"] for f in kept) == sorted(missing)
        assert stored_ids(settings) == []

        # The Delta writer removes a failed write's staging file itself; a killed writer leaves it behind
        # (`<data file>.parquet#<n>`). The next start removes those no writer can still own (an hour old).
        assert [p for p in lake_root.rglob("*") if "#" in p.name] == [], "a failed write left its staging file"
        partition = next((lake_root / "failures").glob("failed_date=*"))
        stale = partition / "part-00001-0f1e2d3c-c000.zstd.parquet#1"
        fresh = partition / "part-00002-4b5a6978-c000.zstd.parquet#1"
        filler.unlink()
        for path in (stale, fresh):
            path.write_bytes(b"PAR1 half a data file")
        an_hour_ago = time.time() - 3700
        os.utime(stale, (an_hour_ago, an_hour_ago))
        Resources(settings).close()
        assert [p for p in lake_root.rglob("*") if "#" in p.name] == [fresh]  # a write maybe still going on
        assert sorted(f["url"] for f in lake_failures(settings)) == sorted(missing)


def test_read_only_lake_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    with small_tmpfs(tmp_path / "rofs", "1m") as lake_root:
        remount_read_only(lake_root)
        monkeypatch.setenv("WIRESTANCE_RAW_URL", str(tmp_path / "raw"))
        status = main(["ingest", "--since", "2025-04-05", "--until", "2025-04-06", "--lake", str(lake_root / "lake")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "wirestance ingest: the lake" in err and "Read-only file system" in err
