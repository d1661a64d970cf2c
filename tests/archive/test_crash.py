"""A writer killed with SIGKILL mid-write: every WARC file and the lake still read, and a rerun seals and
indexes what the dead one left."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from wirestance.archive.reader import ArchiveReader
from wirestance.archive.scan import ScannedRecord, WarcProblem, scan_warc
from wirestance.archive.writer import OPEN_DIR, sealed_files
from wirestance.lake import Lake
from wirestance.settings import Settings

WRITER = """
import json, os, sys
from datetime import UTC, datetime, timedelta
from wirestance.archive.writer import Exchange, WarcWriter
from wirestance.lake import Lake

raw, lake_url, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
writer = WarcWriter(raw, Lake(lake_url), max_file_bytes=150_000)
print(json.dumps([report.__dict__ for report in writer.recover()]), flush=True)
start = datetime(2019, 11, 26, 23, 59, 30, tzinfo=UTC)  # runs past midnight: files roll by day too
i = 0
while count < 0 or i < count:
    body = b"same page " * 3000 if i % 4 == 0 else os.urandom(20_000)  # every 4th is a revisit
    writer.write(Exchange("GET", f"https://www.aa.com.tr/en/politics/p/{i}", {"User-Agent": "t"}, None, 200,
                          {"content-type": "text/html"}, body, start + timedelta(seconds=i)))
    i += 1
    if i == 8:
        print("writing", flush=True)
writer.close()
print("done", flush=True)
"""


def run_writer(settings: Settings, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, settings.raw_url, settings.lake_url, str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )


def scan_all(raw: Path) -> tuple[list[ScannedRecord], list[WarcProblem]]:
    records: list[ScannedRecord] = []
    problems: list[WarcProblem] = []
    for path in sorted(raw.rglob("*.warc.gz*")):
        with open(path, "rb") as handle:
            for item in scan_warc(handle, str(path.relative_to(raw))):
                (problems if isinstance(item, WarcProblem) else records).append(item)  # type: ignore[arg-type]
    return records, problems


def test_sigkill_while_writing_leaves_readable_files_and_a_rerun_completes(settings: Settings):
    raw = Path(settings.raw_url)
    proc = run_writer(settings, -1)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "[]"
    assert proc.stdout.readline().strip() == "writing"
    time.sleep(random.uniform(0.2, 0.6))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    # A torn write (power loss, a full disk) leaves part of a record: add such a tail to the file the writer
    # had open. The kill itself may have torn one too: Linux ends a write to the page cache early, at a page
    # boundary, when a fatal signal is pending (seen once in CI: the file cut at 8,192 bytes, inside a record
    # that began at byte 329; of 20 processes killed while writing 64 MiB blocks, 19 left a short write ending
    # at a page boundary).
    opened = sorted((raw / OPEN_DIR).glob("*.open"))
    assert len(opened) <= 1
    torn_at = None
    if opened:
        torn_at = opened[0].stat().st_size
        with open(opened[0], "ab") as handle:
            # The first 100 bytes of a gzip member, made here: the killed writer's file may still be empty.
            handle.write(gzip.compress(b"WARC/1.1\r\n" + random.randbytes(400))[:100])

    # Every file reads without an exception; the torn tail is reported with its file and offset.
    records, problems = scan_all(raw)
    assert records
    if opened:
        [problem] = problems  # a file reads up to its first damaged record
        assert problem.file == f"{OPEN_DIR}/{opened[0].name}"
        # Our tail, or the start of the record the kill tore (the file then ended at a page boundary).
        assert problem.offset == torn_at or (torn_at is not None and torn_at % 4096 == 0 and problem.offset < torn_at)
    else:
        assert problems == []
    assert all("truncated" in p.reason for p in problems)
    # The lake reads, and every index row points at a whole record (sealed, or still in the open file).
    lake = Lake(settings.lake_url)
    index = lake.read("raw_index").to_pylist()
    with ArchiveReader(settings.raw_url, lake) as reader:
        for row in index:
            found = reader.read_record(row["file"], row["offset"], row["length"])
            assert not isinstance(found, WarcProblem), found
            assert found.record_id == row["record_id"]

    rerun = run_writer(settings, 12)
    out, _ = rerun.communicate(timeout=60)
    assert rerun.returncode == 0
    recovered, *_, last = out.splitlines()
    assert last == "done"
    reports = json.loads(recovered)
    assert len(reports) <= 1  # the one file the killed writer had open (if it was not between files)
    if problems:
        [report] = reports
        assert report["file"].split("/")[1] == Path(problems[0].file).name.removesuffix(".open")
        assert report["cut_at"] == problems[0].offset and report["cut_bytes"] > 0

    # Nothing is left open; every sealed file is whole and every response or revisit is indexed once.
    assert not list((raw / OPEN_DIR).glob("*.open"))
    records, problems = scan_all(raw)
    assert problems == []
    archived = {r.record.record_id for r in records if r.record.rec_type in ("response", "revisit")}
    index = Lake(settings.lake_url).read("raw_index").to_pylist()
    assert sorted(r["record_id"] for r in index) == sorted(archived)
    assert {r["file"] for r in index} == set(sealed_files(settings.raw_url))
    with ArchiveReader(settings.raw_url, Lake(settings.lake_url)) as reader:
        assert len(list(reader.responses())) == len(index)
    assert not reader.problems
