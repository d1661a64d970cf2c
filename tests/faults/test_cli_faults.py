"""Errors that say what happened, in one line and exit status 2: bad settings, hostile `parse` input
(URL, file, .gz bomb), non-UTF-8 `classify` input, an empty `champion` file."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_run import REPO
from hostile import HostileServer, article_html, article_path, not_gzip

from wirestance.cli import main
from wirestance.settings import Settings, SettingsError


def one_line_error(capsys: pytest.CaptureFixture[str], status: int) -> str:
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("PER_HOST_DELAY", "abc", "not a number"),
        ("BATCH_SIZE", "0", "must be greater than 0"),
        ("BATCH_SIZE", "2.5", "not a whole number"),
        ("TIMEOUT", "0", "must be greater than 0"),
        ("TIMEOUT", "nan", "must be a finite number"),
        ("MAX_ATTEMPTS", "-1", "must be greater than 0"),
        ("PER_HOST_DELAY", "-1", "must not be negative"),
        ("EARLIEST_PUBLISHED", "yesterday", "not an ISO date"),
    ],
)
def test_bad_setting_is_refused_at_start(monkeypatch, capsys, tmp_path: Path, name: str, value: str, reason: str):
    monkeypatch.setenv(f"WIRESTANCE_{name}", value)
    err = one_line_error(capsys, main(["summary", "--lake", str(tmp_path / "lake")]))
    assert f"WIRESTANCE_{name}=" in err and reason in err
    assert not (tmp_path / "lake").exists()
    with pytest.raises(SettingsError, match=f"WIRESTANCE_{name}"):
        Settings.from_env()


def test_parse_url_with_a_broken_body_is_one_line(hostile: HostileServer, monkeypatch, capsys):
    monkeypatch.setenv("WIRESTANCE_PER_HOST_DELAY", "0")
    url = hostile.page(article_path("1"), not_gzip(article_html("1")), headers={"Content-Encoding": "gzip"})
    err = one_line_error(capsys, main(["parse", url, "--source", "anadolu"]))
    assert url in err and "content-encoding: gzip" in err.lower()


def test_parse_refuses_an_implausible_date(tmp_path: Path, capsys):
    page = tmp_path / "page.html"
    page.write_bytes(article_html("5", printed="01.01.0001"))
    err = one_line_error(capsys, main(["parse", str(page), "--url", "https://www.aa.com.tr" + article_path("5")]))
    assert "implausible publication date 0001-01-01" in err


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"this is not gzip at all", "not a readable gzip file"),
        (gzip.compress(article_html("1"))[:-20], "not a readable gzip file"),  # cut short
    ],
    ids=["not-gzip", "truncated"],
)
def test_parse_damaged_gz_file_is_one_line(tmp_path: Path, capsys, content: bytes, reason: str):
    path = tmp_path / "page.html.gz"
    path.write_bytes(content)
    err = one_line_error(capsys, main(["parse", str(path)]))
    assert str(path) in err and reason in err


def test_parse_missing_or_unreadable_file_is_one_line(tmp_path: Path, capsys):
    err = one_line_error(capsys, main(["parse", str(tmp_path / "nothing.html")]))
    assert "no such file" in err
    (tmp_path / "folder.html").mkdir()
    err = one_line_error(capsys, main(["parse", str(tmp_path / "folder.html")]))
    assert "no such file" in err


# `wirestance parse FILE` in a fresh process that prints its own peak memory (MB) when the command is done.
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent (the test session) across exec.
PARSE_AND_REPORT_PEAK = """
import re, sys
from wirestance.cli import main
status = main(["parse", sys.argv[1]])
with open("/proc/self/status") as status_file:
    print(int(re.search(r"VmHWM:\\s+(\\d+) kB", status_file.read()).group(1)) / 1024)
sys.exit(status)
"""


@pytest.mark.slow
def test_parse_gzip_bomb_stops_at_the_size_limit_in_bounded_memory(tmp_path: Path):
    """About 1 MB on disk expanding to 1 GiB: refused at the 10 MB body limit, the process stays small."""
    bomb = tmp_path / "bomb.html.gz"
    # A gzip file may be many members, read as one stream: one member of 1 MiB of zeros, 1,024 times.
    member = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
    bomb.write_bytes(gzip.compress(b"<html><body>") + member * 1024)
    assert bomb.stat().st_size < 1_100_000
    started = time.monotonic()
    child = subprocess.run(
        [sys.executable, "-c", PARSE_AND_REPORT_PEAK, str(bomb)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "WIRESTANCE_MAX_BODY_BYTES": str(10 * 1024 * 1024)},
    )
    elapsed = time.monotonic() - started
    peak_mb = float(child.stdout.strip().splitlines()[-1])
    assert child.returncode == 2, child.stderr
    assert child.stderr.count("\n") == 1 and "decompresses to more than 10485760 bytes" in child.stderr
    assert elapsed < 15, elapsed
    assert peak_mb < 400, peak_mb  # was 2.1 GB; measured here ~150 MB (Python, lxml and the 10 MB read)


def test_classify_non_utf8_input_names_the_file_and_line(
    tmp_path: Path, monkeypatch, capsys, champion, fault_models_dir: Path
):
    monkeypatch.setenv("WIRESTANCE_MODELS_DIR", str(fault_models_dir))
    given = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": "Turkey bought the S-400."}).encode(), b'{"text": "caf\xe9 in Latin-1"}']
    given.write_bytes(b"\n".join(lines) + b"\n")
    err = one_line_error(capsys, main(["classify", "--in", str(given), "--out", str(tmp_path / "out.jsonl")]))
    assert f"{given} line 2: not UTF-8 (byte 0xe9 at column 14)" in err
    assert not (tmp_path / "out.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in.jsonl"]  # no temporary output left behind


def test_classify_removes_the_temporary_output_of_a_killed_run(tmp_path: Path, monkeypatch, champion, fault_models_dir):
    monkeypatch.setenv("WIRESTANCE_MODELS_DIR", str(fault_models_dir))
    given = tmp_path / "in.jsonl"
    given.write_text(json.dumps({"text": "Ankara received the first S-400 parts."}) + "\n")
    abandoned = tmp_path / ".out.jsonl.0123456789abcdef0123456789abcdef.tmp"
    abandoned.write_text('{"half": ')  # what a killed classify left: no process holds its lock
    assert main(["classify", "--in", str(given), "--out", str(tmp_path / "out.jsonl")]) == 0
    assert not abandoned.exists()
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 1


def test_empty_champion_file_is_an_error_not_a_retrain(tmp_path: Path, monkeypatch, capsys):
    models = tmp_path / "models"
    models.mkdir()
    (models / "champion").write_text("\n")
    monkeypatch.setenv("WIRESTANCE_MODELS_DIR", str(models))
    monkeypatch.setenv("WIRESTANCE_LABELED_DIR", str(REPO / "data" / "labeled"))
    given = tmp_path / "in.jsonl"
    given.write_text(json.dumps({"text": "x"}) + "\n")
    err = one_line_error(capsys, main(["classify", "--in", str(given), "--out", str(tmp_path / "out.jsonl")]))
    assert f"{models / 'champion'} is empty" in err
    assert sorted(p.name for p in models.iterdir() if not p.name.startswith(".")) == ["champion"]  # nothing trained
