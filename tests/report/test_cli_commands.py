"""The commands of issue 12 as a user runs them: sample serve, backfill with its progress bar, --version,
summary on a missing lake."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from registry_copy import copy_registry

from wirestance import __version__
from wirestance.cli import main
from wirestance.replay import ReplayServer, ReplaySite

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "data" / "samples" / "anadolu_en"


def _wirestance(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from wirestance.cli import main; sys.exit(main())", *args]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIRESTANCE_", "PREFECT_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
        WIRESTANCE_SAMPLES_DIR=str(REPO_ROOT / "data" / "samples"),
        WIRESTANCE_MODELS_DIR=str(tmp_path / "models"),
        WIRESTANCE_LABELED_DIR=str(REPO_ROOT / "data" / "labeled"),
        WIRESTANCE_EVAL_DIR=str(REPO_ROOT / "data" / "eval"),
        WIRESTANCE_RAW_URL=str(tmp_path / "raw"),
        WIRESTANCE_REPORTS_DIR=str(tmp_path / "reports"),
        WIRESTANCE_PER_HOST_DELAY="0",
        **extra,
    )
    return env


def test_version_and_summary_of_a_missing_lake(tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"wirestance {__version__}"
    assert main(["summary", "--lake", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"wirestance summary: no lake at {tmp_path / 'nowhere'}; give --lake or set WIRESTANCE_LAKE_URL"
    ]


def test_sample_serve_prints_a_base_url_that_serves_the_sample_and_stops_on_sigterm(tmp_path: Path):
    child = subprocess.Popen(
        _wirestance("sample", "serve", "--port", "0"),
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout is not None
        lines = [child.stdout.readline() for _ in range(5)]
        base = re.search(r"base URL: (http://127\.0\.0\.1:\d+)", "".join(lines))
        assert base, lines
        with urllib.request.urlopen(f"{base.group(1)}/en/rss/default?cat=politics", timeout=10) as response:
            assert b"<rss" in response.read()
        assert f"--base-url {base.group(1)}" in "".join(lines)
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=20) == 0
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


@pytest.mark.slow
def test_backfill_shows_progress_and_says_where_the_results_went(tmp_path: Path, labeled_champion: Path):
    copy_registry(labeled_champion, tmp_path / "models")
    lake = tmp_path / "lake"
    with ReplayServer(ReplaySite(SAMPLE)) as server:
        done = subprocess.run(
            _wirestance(
                "backfill",
                "--since",
                "2019-11-26",
                "--until",
                "2019-11-27",
                "--source",
                "anadolu",
                "--base-url",
                server.base_url,
                "--lake",
                str(lake),
            ),
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=600,
        )
        # The same days again from the raw archive the first run left: --mode is passed to the flow.
        again = subprocess.run(
            _wirestance(
                "backfill",
                "--since",
                "2019-11-26",
                "--until",
                "2019-11-27",
                "--mode",
                "archive",
                "--source",
                "anadolu",
                "--base-url",
                server.base_url,
                "--lake",
                str(lake),
            ),
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"backfill 2019-11-26\.\.2019-11-27 .*2/2 chunks, 100%, time left", done.stdout), done.stdout
    assert f"stored in the lake at {lake}" in done.stdout
    # No --mode: auto, and these days are within what the sample's feeds list.
    assert "The backfill reads the sources' feeds: the feeds list articles back to" in done.stdout + done.stderr
    assert re.search(r"^\s+total\s+anadolu\s", done.stdout, re.M), done.stdout  # the totals row
    assert re.search(rf"│ stored in the lake at +│ {re.escape(str(lake))} +│", done.stdout), done.stdout
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "from the raw archive (no network), for anadolu" in again.stdout + again.stderr
    assert re.search(r"│ articles new / updated / unchanged +│ 0 / 0 / \d+ +│", again.stdout), again.stdout
    reports = list((tmp_path / "reports").glob("stance-report_2019-11-26_2019-11-27_week.html"))
    assert reports, "no stance report of the backfill's days"
