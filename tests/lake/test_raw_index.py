"""The raw archive's index is a lake table made from the WARC files alone: it can be rebuilt from them."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wirestance.archive.reader import ArchiveReader
from wirestance.archive.writer import Exchange, WarcWriter, rebuild_raw_index, sealed_files
from wirestance.cli import main
from wirestance.lake import Lake

T0 = datetime(2019, 11, 26, 10, tzinfo=UTC)


def exchange(url: str, body: bytes, when: datetime) -> Exchange:
    return Exchange("GET", url, {"User-Agent": "t"}, None, 200, {"content-type": "text/html"}, body, when)


def write_archive(raw: str, lake: Lake) -> None:
    writer = WarcWriter(raw, lake, max_file_bytes=2_000)
    for i in range(8):
        body = f"<html><p>page {i % 5}</p>{'x' * 300}</html>".encode()  # repeats become revisit records
        writer.write(exchange(f"https://www.aa.com.tr/en/x/{i % 5}", body, T0 + timedelta(hours=7 * i)))
    writer.close()


def index_rows(lake: Lake) -> list[tuple]:
    table = lake.read("raw_index").drop_columns(["schema_version"])
    return sorted(tuple(row.values()) for row in table.to_pylist())


def test_rebuild_from_the_warc_files_gives_the_same_index(tmp_path: Path):
    raw, lake = str(tmp_path / "raw"), Lake(str(tmp_path / "lake"))
    write_archive(raw, lake)
    written = index_rows(lake)
    assert len(list(sealed_files(raw))) > 2 and len(written) == 8
    assert {r[7] for r in written} == {"response", "revisit"}

    shutil.rmtree(tmp_path / "lake" / "raw_index")  # the index lost: only the WARC files are left
    lake = Lake(str(tmp_path / "lake"))
    assert lake.read("raw_index").num_rows == 0
    files, rows = rebuild_raw_index(raw, lake)
    assert (files, rows) == (len(list(sealed_files(raw))), 8)
    assert index_rows(lake) == written
    with ArchiveReader(raw, lake) as reader:
        bodies = [r.body for r in reader.responses()]
    assert len(bodies) == 8 and not reader.problems

    # Rebuilding over an index with rows of a file that is gone drops them; running it twice changes nothing.
    first = sorted(sealed_files(raw))[0]
    (Path(raw) / first).unlink()
    assert main(["lake", "rebuild-raw-index", "--raw", raw, "--lake", lake.url]) == 0
    assert main(["lake", "rebuild-raw-index", "--raw", raw, "--lake", lake.url]) == 0
    remaining = index_rows(lake)
    assert remaining == [row for row in written if row[9] != first]
