"""The benchmark suite still runs: `python -m bench --n 200` end to end, every required figure printed.

No timing is asserted (figures depend on the machine and its load); this only keeps the suite working.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIRED = (
    "parse_pages_per_s",
    "parse_ratio_vs_lxml",
    "parse_ratio_vs_trafilatura",
    "classify_paragraphs_per_s",
    "classify_ratio_vs_floor",
    "e2e_articles_per_s",
    "prefect_overhead_pct",
    "e2e_ratio_vs_floor",
    "parallel_efficiency",
    "reprocess_unchanged_speedup",
    "e2e_seconds_per_article_growth",
    "peak_rss_mb",
    "peak_rss_growth",
    "fetch_ratio_vs_requests",
    "lake_write_ms_per_article",
    "lake_write_ratio_vs_earlier_layout",
)


@pytest.mark.slow
def test_bench_smoke_run_prints_every_required_figure(tmp_path: Path, labeled_champion: Path):
    """With the session's champion (`--models`): training one is the tests' business elsewhere."""
    results = tmp_path / "RESULTS.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIRESTANCE_", "PREFECT_"))}
    command = ["--n", "200", "--repeats", "1", "--output", str(results), "--models", str(labeled_champion)]
    done = subprocess.run(
        [sys.executable, "-m", "bench", *command],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # The progress bar's last line (one step per part), then the table saying where the results went.
    assert re.search(r"^bench ━+ 6/6 parts, 100%, time left 0:00:00$", done.stdout, re.M), done.stdout[-3000:]
    assert re.search(rf"│ results written to +│ {re.escape(str(results))} +│", done.stdout), done.stdout[-3000:]
    figures = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line and line[:1] != "#")
    missing = [name for name in REQUIRED if name not in figures]
    assert not missing, f"not printed: {missing}\n{done.stdout}"
    for name in REQUIRED:
        assert math.isfinite(float(figures[name])), f"{name}: {figures[name]}"
    written = results.read_text(encoding="utf-8")
    assert all(f"`{name}`" in written for name in REQUIRED)
    assert "| cores |" in written and "| prefect |" in written
