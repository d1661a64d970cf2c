"""The fault suite's fixtures: a hostile loopback server, settings on tmp folders, the champion model, and
a run of the ingest pipeline (discover, then batches that write their own failures) without Prefect."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from wirestance.lake import Lake
from wirestance.lake.store import iter_batches
from wirestance.pipeline import BatchOutcome, Runtime, StanceLabeller, Window, discover, process_batch, store_failures
from wirestance.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile import HostileServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture(scope="session")
def fault_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fault-models")


@pytest.fixture
def settings(tmp_path: Path, fault_models_dir: Path) -> Settings:
    return Settings(
        lake_url=str(tmp_path / "lake"),
        raw_url=str(tmp_path / "raw"),
        models_dir=str(fault_models_dir),
        labeled_dir=str(REPO / "data" / "labeled"),
        per_host_delay=0.0,
        per_host_concurrency=2,
        timeout=2.0,
        max_attempts=2,
        backoff_base=0.01,
        request_deadline=3.0,
        batch_size=5,
    )


@pytest.fixture(scope="session")
def champion(fault_models_dir: Path) -> StanceLabeller:
    from wirestance.classifiers.registry import load_champion

    return load_champion(Settings(models_dir=str(fault_models_dir), labeled_dir=str(REPO / "data" / "labeled")))


@dataclass
class RunResult:
    seconds: float
    outcomes: list[BatchOutcome] = field(default_factory=list)
    discovery_failures: list[dict[str, Any]] = field(default_factory=list)
    run_id: str = ""

    @property
    def failures(self) -> list[dict[str, Any]]:
        return self.discovery_failures + [f for outcome in self.outcomes for f in outcome.failures]


def run_pipeline(
    settings: Settings, model: StanceLabeller, feed_url: str, window: Window, runtime: Runtime | None = None
) -> RunResult:
    """What `flows.ingest.run_ingest` does for one source, minus Prefect: discover, then store each batch,
    failures written by each batch as it ends. A `runtime` given is reused (and left open)."""
    owned = runtime is None
    runtime = runtime or Runtime(settings)
    run_id = f"faults-{uuid.uuid4().hex[:8]}"
    base = feed_url.split("/en/", 1)[0]
    started = time.monotonic()
    try:
        found = discover(runtime, "anadolu", None, window, base, feed_urls=[feed_url])
        store_failures(runtime.lake, found.failures, run_id)
        result = RunResult(0.0, discovery_failures=found.failures, run_id=run_id)
        for batch in iter_batches([item.url for item in found.items], settings.batch_size):
            result.outcomes.append(process_batch(runtime, "anadolu", batch, model, base, run_id=run_id))
    finally:
        if owned:
            runtime.close()
    result.seconds = time.monotonic() - started
    return result


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
