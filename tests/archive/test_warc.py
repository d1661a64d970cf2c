"""The raw WARC archive: recording through the fetcher, revisits, rolling, the index, damaged records."""

from __future__ import annotations

import gzip
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsspec
import pytest
from archive_server import ORIGIN, ArchiveServer
from warcio.archiveiterator import ArchiveIterator

from wirestance.archive.reader import ArchiveReader
from wirestance.archive.recorder import ArchiveRecorder
from wirestance.archive.scan import ScannedRecord, WarcProblem, scan_warc
from wirestance.archive.writer import Exchange, WarcWriter, sealed_files
from wirestance.discovery.captures import PageFetcher
from wirestance.discovery.config import DiscoveryConfig
from wirestance.discovery.past import archive_fetcher
from wirestance.discovery.types import Candidate, Capture
from wirestance.fetch import PoliteFetcher
from wirestance.lake import Lake
from wirestance.settings import Settings

SEED = "/en/politics/russia-eyes-further-military-cooperation-with-turkey/1656284"
OTHER = "/en/turkiye/turkish-jets-fly-over-ankara-to-test-s-400-radars/1656530"


def exchange(url: str, body: bytes, when: datetime, status: int = 200) -> Exchange:
    return Exchange(
        "GET", url, {"User-Agent": "t"}, None, status, {"content-type": "text/html; charset=utf-8"}, body, when
    )


def test_fetches_are_recorded_as_standard_warc_and_indexed(archive_server: ArchiveServer, settings: Settings):
    recorder = ArchiveRecorder(settings)
    with PoliteFetcher(settings, ["127.0.0.1"], recorder=recorder) as fetcher:
        page = fetcher.get(archive_server.base_url + SEED)
        fetcher.get(archive_server.base_url + "/sitemap.xml")
    recorder.close()
    files = list(sealed_files(settings.raw_url))
    assert len(files) == 1 and files[0].startswith(page.fetched_at.date().isoformat() + "/")
    assert not list((Path(settings.raw_url) / "_open").iterdir())
    # Any WARC reader reads it: warcinfo, then response + request per fetch (robots.txt included).
    with open(Path(settings.raw_url) / files[0], "rb") as handle:
        types = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(handle)]
    assert types[0][0] == "warcinfo"
    assert [t for t, _ in types[1:]] == ["response", "request"] * 3
    index = Lake(settings.lake_url).read("raw_index").to_pylist()
    assert [r["url"].rsplit("/", 1)[1] for r in index] == ["robots.txt", "1656284", "sitemap.xml"]
    seed = index[1]
    assert seed["status"] == 200 and seed["record_type"] == "response" and seed["fetch_time"] == page.fetched_at
    assert seed["payload_digest"].startswith("sha1:") and seed["file"] == files[0]
    with ArchiveReader(settings.raw_url, Lake(settings.lake_url)) as reader:
        [stored] = [r for r in reader.responses() if r.url.endswith("1656284")]
    assert stored.body == page.body and stored.fetched_at == page.fetched_at and stored.capture_time is None
    assert not reader.problems


def test_identical_payloads_are_revisits_and_read_back_whole(archive_server: ArchiveServer, settings: Settings):
    recorder = ArchiveRecorder(settings)
    with PoliteFetcher(settings, ["127.0.0.1"], recorder=recorder) as fetcher:
        first = fetcher.get(archive_server.base_url + SEED)
        again = fetcher.get(archive_server.base_url + SEED)
    recorder.close()
    # A later run (new writer) finds the digest through the lake's index.
    second = ArchiveRecorder(settings)
    with PoliteFetcher(settings, ["127.0.0.1"], recorder=second, obey_robots=False) as fetcher:
        fetcher.get(archive_server.base_url + SEED)
    second.close()
    rows = [r for r in Lake(settings.lake_url).read("raw_index").to_pylist() if r["url"].endswith("1656284")]
    rows.sort(key=lambda r: r["fetch_time"])
    assert [r["record_type"] for r in rows] == ["response", "revisit", "revisit"]
    assert len({r["payload_digest"] for r in rows}) == 1
    assert max(r["length"] for r in rows[1:]) < 2000 < rows[0]["length"]  # headers only
    with ArchiveReader(settings.raw_url, Lake(settings.lake_url)) as reader:
        bodies = [r for r in reader.responses() if r.url.endswith("1656284")]
    assert [r.body for r in bodies] == [first.body] * 3
    assert bodies[1].fetched_at == again.fetched_at


def test_files_roll_by_day_and_size(settings: Settings):
    writer = WarcWriter(settings.raw_url, Lake(settings.lake_url), max_file_bytes=40_000)
    day = datetime(2019, 11, 26, 23, 59, tzinfo=UTC)
    for i in range(6):
        writer.write(exchange(f"https://www.aa.com.tr/en/a/{i}", os.urandom(30_000), day))
    writer.write(exchange("https://www.aa.com.tr/en/a/next-day", b"y" * 100, day + timedelta(minutes=2)))
    writer.close()
    files = list(sealed_files(settings.raw_url))
    assert [f.split("/")[0] for f in files].count("2019-11-26") >= 3  # random bodies do not compress
    assert files[-1].startswith("2019-11-27/")
    index = Lake(settings.lake_url).read("raw_index")
    assert sorted(set(index["file"].to_pylist())) == files
    assert sorted(str(d) for d in set(index["fetch_date"].to_pylist())) == ["2019-11-26", "2019-11-27"]


def test_damaged_and_truncated_records_are_reported_and_skipped(settings: Settings):
    writer = WarcWriter(settings.raw_url, Lake(settings.lake_url))
    when = datetime(2019, 11, 26, 10, tzinfo=UTC)
    rows = [
        writer.write(exchange(f"https://www.aa.com.tr/en/a/{i}", f"body {i} ".encode() * 200, when)) for i in range(4)
    ]
    writer.close()
    [name] = list(sealed_files(settings.raw_url))
    path = Path(settings.raw_url) / name
    data = bytearray(path.read_bytes())
    damaged = rows[1]["offset"] + rows[1]["length"] // 2
    data[damaged : damaged + 8] = b"\x00" * 8  # inside the second response record's deflate stream
    path.write_bytes(bytes(data[:-30]))  # and the file's last member (a request record) cut short

    with open(path, "rb") as handle:
        items = list(scan_warc(handle, name))
    problems = [i for i in items if isinstance(i, WarcProblem)]
    good = [i.record.target_uri for i in items if isinstance(i, ScannedRecord) and i.record.rec_type == "response"]
    assert good == ["https://www.aa.com.tr/en/a/0", "https://www.aa.com.tr/en/a/2", "https://www.aa.com.tr/en/a/3"]
    assert problems[0].file == name and problems[0].offset == rows[1]["offset"]
    assert "damaged" in problems[0].reason or "Content-Length" in problems[0].reason
    assert "truncated" in problems[-1].reason and problems[-1].offset > rows[3]["offset"]
    assert f"{name} at offset {rows[1]['offset']}" in str(problems[0])

    with ArchiveReader(settings.raw_url, Lake(settings.lake_url)) as reader:
        urls = [r.url for r in reader.responses()]
    assert urls == ["https://www.aa.com.tr/en/a/0", "https://www.aa.com.tr/en/a/2", "https://www.aa.com.tr/en/a/3"]
    assert [(p.file, p.offset) for p in reader.problems] == [(name, rows[1]["offset"])]


def test_remote_raw_root_gets_whole_files(settings: Settings, tmp_path: Path):
    raw = f"memory://raw-{tmp_path.name}"
    writer = WarcWriter(raw, Lake(settings.lake_url), spool_dir=str(tmp_path / "spool"))
    writer.write(exchange("https://www.aa.com.tr/en/a/1", b"hello" * 100, datetime(2019, 11, 26, tzinfo=UTC)))
    fs = fsspec.filesystem("memory")
    assert not fs.glob(f"/raw-{tmp_path.name}/**/*.warc.gz")  # nothing visible before sealing
    writer.close()
    assert len(fs.glob(f"/raw-{tmp_path.name}/2019-11-26/*.warc.gz")) == 1
    assert not list((tmp_path / "spool").iterdir())
    with ArchiveReader(raw, Lake(settings.lake_url)) as reader:
        assert [r.body for r in reader.responses()] == [b"hello" * 100]


def test_archive_fetches_are_recorded_with_capture_provenance(
    archive_server: ArchiveServer, settings: Settings, config: DiscoveryConfig
):
    """Wayback and Common Crawl fetches are archived as they came; the reader gives back the pages."""
    recorder = ArchiveRecorder(settings)
    wayback = Capture("wayback", ORIGIN + SEED, "20191127120000")
    cc_offset, cc_length = archive_server.cc_where["1656530"]
    common = Capture("commoncrawl", "https://m.aa.com.tr" + OTHER, "20191127120000", None,
                     archive_server.cc_file, cc_offset, cc_length)  # fmt: skip
    archive_only = replace(config, fetch_mode="archive")
    with (
        PoliteFetcher(settings, ["aa.com.tr"]) as site,
        archive_fetcher(settings, archive_only, recorder=recorder) as archives,
    ):
        pages = PageFetcher(site, archives, archive_only)
        for capture in (wayback, common):
            pages.fetch(Candidate(capture.original_url, capture.original_url, captures=[capture]))
    recorder.close()
    index = Lake(settings.lake_url).read("raw_index").to_pylist()
    captures = [r for r in index if not r["url"].endswith("/robots.txt") and r["status"] in (200, 206)]
    assert len(captures) == 2 and {r["host"] for r in captures} == {"aa.com.tr"}
    with ArchiveReader(settings.raw_url, Lake(settings.lake_url)) as reader:
        found = {r.capture_origin: r for r in reader.responses(domains=["aa.com.tr"])}
    assert found["wayback"].url == ORIGIN + SEED
    assert found["wayback"].capture_time == datetime(2019, 11, 27, 12, tzinfo=UTC)
    assert found["commoncrawl"].url == "https://m.aa.com.tr" + OTHER
    assert b"detay-icerik" in found["commoncrawl"].body
    assert found["commoncrawl"].url_key == "https://aa.com.tr" + OTHER


def test_a_gzip_file_is_not_mistaken_for_a_capture(settings: Settings):
    writer = WarcWriter(settings.raw_url, Lake(settings.lake_url))
    writer.write(exchange("https://www.aa.com.tr/x.xml.gz", gzip.compress(b"<urlset/>"), datetime.now(UTC), 206))
    writer.close()
    with ArchiveReader(settings.raw_url, Lake(settings.lake_url)) as reader:
        assert list(reader.responses()) == []
    assert not reader.problems


@pytest.mark.parametrize("dedupe", [True, False])
def test_empty_bodies_are_never_revisits(settings: Settings, dedupe: bool):
    writer = WarcWriter(settings.raw_url, Lake(settings.lake_url), dedupe=dedupe)
    when = datetime.now(UTC)
    kinds = [writer.write(exchange("https://www.aa.com.tr/feed", b"", when, 304))["record_type"] for _ in range(2)]
    writer.close()
    assert kinds == ["response", "response"]
