"""The fault suite's helpers (tests/faults): a run of the ingest pipeline without Prefect (discover, then batches
that write their own failures), what the lake holds after it, and small real file systems to fill. Kept out of
the suite's conftest so that test modules import them by this module's name, whatever other folders run in the
same session (every folder has a conftest.py: `from conftest import ...` took whichever came first)."""

from __future__ import annotations

import contextlib
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from wirestance.failures import Failure
from wirestance.ingest import IngestRequest, ingest_window, store_batch
from wirestance.lake import Lake
from wirestance.pipeline import StanceLabeller, Window, process_batch, store_failures
from wirestance.reports import SourceReport
from wirestance.resources import Resources
from wirestance.settings import Settings

REPO = Path(__file__).resolve().parents[2]


@dataclass
class RunResult:
    seconds: float
    outcomes: list[SourceReport] = field(default_factory=list)
    reports: list[SourceReport] = field(default_factory=list)
    run_id: str = ""

    @property
    def failures(self) -> list[Failure]:
        return [f for report in self.reports for f in report.failures]


def run_pipeline(
    settings: Settings, model: StanceLabeller, feed_url: str, window: Window, resources: Resources | None = None
) -> RunResult:
    """What `flows.ingest.run_ingest` does for one source, minus Prefect: `ingest_window` with the plain
    steps (discover, then store each batch, failures written as each batch ends). Each batch's report is
    kept in `outcomes`. `resources` given are reused (and left open)."""
    owned = resources is None
    resources = resources or Resources(settings, model=model)
    run_id = f"faults-{uuid.uuid4().hex[:8]}"
    result = RunResult(0.0, run_id=run_id)

    def batch_step(resources: Resources, source: str, urls: list[str], request: IngestRequest) -> SourceReport:
        outcome = store_batch(resources, source, urls, request)
        result.outcomes.append(outcome)
        return outcome

    request = IngestRequest(window, ("anadolu",), feed_urls=(feed_url,))
    started = time.monotonic()
    try:
        result.reports = ingest_window(resources, request, run_id, batch_step=batch_step)
    finally:
        if owned:
            resources.close()
    result.seconds = time.monotonic() - started
    return result


def batch_with_failures(
    resources: Resources, urls: list[str], model: StanceLabeller, base_url: str, run_id: str | None = None
) -> SourceReport:
    """One batch of anadolu pages as `ingest_window` runs it: processed, then (with `run_id`) its failures
    written to the lake at once."""
    outcome = process_batch(resources, "anadolu", urls, model, base_url)
    if run_id is not None:
        store_failures(resources, outcome.failures, run_id)
    return outcome


def stored_ids(settings: Settings) -> list[str]:
    """Article ids in the lake, with repeats (a test asserts each is there once)."""
    return sorted(Lake(settings.lake_url).read("articles").column("article_id").to_pylist())


def lake_failures(settings: Settings) -> list[dict[str, Any]]:
    return Lake(settings.lake_url).read("failures").to_pylist()


def failure_for(failures: list[dict[str, Any]], url_part: str) -> dict[str, Any]:
    matching = [f for f in failures if url_part in f["url"]]
    assert len(matching) == 1, f"expected one failure for {url_part}, got {matching}"
    return matching[0]


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A real file system of `size` mounted at `path` (needs root; the test is skipped otherwise)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a {size} tmpfs to fill (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def fill(folder: Path) -> Path:
    """Fill the file system under `folder` to the last byte; the filler file is returned to free it later."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as handle:
        chunk = b"\0" * 65536
        try:
            while True:
                handle.write(chunk)
        except OSError:
            pass
        try:
            while True:
                handle.write(b"\0")
        except OSError:
            pass
    return filler
