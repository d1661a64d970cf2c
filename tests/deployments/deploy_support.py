"""Helpers of the deployment tests (imported by name: conftest.py puts this folder on sys.path).

Real processes for the deployment tests: Prefect servers, `wirestance serve`, workers, PostgreSQL.

Every child runs in its own session (so a fallback kill reaches it and its children only), talks only
to loopback, and keeps its state (PREFECT_HOME, lake, models) in the test's temp dirs. Its output goes
to a log file that a failing test prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "data" / "samples" / "anadolu_en"
OUTPUT = REPO_ROOT / "tests" / "output"
#: A serve or worker process in the tests polls for new runs this often (seconds).
POLL_SECONDS = "1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Child:
    """A child process in its own session, with its output in a log file."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        log: Path,
        cwd: Path = REPO_ROOT,
        *,
        user: str | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.log = log
        self.stop_signal = stop_signal
        self.started = time.monotonic()
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                user=user,
                group=user,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 30.0) -> int | None:
        """Signal the child (SIGTERM unless told), wait; SIGKILL its whole session if it is still there."""
        if self.alive():
            self.popen.send_signal(self.stop_signal)
            try:
                return self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
                return None
        with contextlib.suppress(ProcessLookupError):  # children it left behind in its session
            os.killpg(self.popen.pid, signal.SIGKILL)
        return self.popen.returncode

    def tail(self, chars: int = 4000) -> str:
        return f"--- {self.name} ({self.log}) ---\n{self.output()[-chars:]}"


def wait_for(check: Callable[[], bool], timeout: float, what: str, *children: Child) -> float:
    """Poll `check` until true; seconds waited. Fails early, with the logs, if a child died."""
    started = time.monotonic()
    while not check():
        for child in children:
            if not child.alive():
                pytest.fail(f"{child.name} exited ({child.popen.returncode}) while waiting for {what}\n{child.tail()}")
        if time.monotonic() - started > timeout:
            logs = "\n".join(child.tail() for child in children)
            pytest.fail(f"no {what} after {timeout:.0f} s\n{logs}")
        time.sleep(0.2)
    return time.monotonic() - started


def healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def base_env(prefect_home: Path, **extra: str) -> dict[str, str]:
    """The environment of a child: this one, minus any Prefect server it points at, plus test settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API_", "WIRESTANCE_"))}
    env.update(
        PREFECT_HOME=str(prefect_home),
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_RUNNER_POLL_FREQUENCY=POLL_SECONDS,
        PREFECT_WORKER_QUERY_SECONDS=POLL_SECONDS,
        WIRESTANCE_PER_HOST_DELAY="0.01",  # our own loopback replay server: no need to pace
        PYTHONUNBUFFERED="1",
    )
    # The tests' sources file (tests/conftest.py): only the agencies these tests replay are enabled.
    if "WIRESTANCE_SOURCES_FILE" in os.environ:
        env["WIRESTANCE_SOURCES_FILE"] = os.environ["WIRESTANCE_SOURCES_FILE"]
    env.update(extra)
    return env


def wirestance_argv(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from wirestance.cli import main; sys.exit(main())", *args]


def record_timing(name: str, seconds: float) -> None:
    """Keep what was measured (tests/output/deployment-timings.json, gitignored) and show it with -s."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / "deployment-timings.json"
    try:
        timings: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        timings = {}
    timings[name] = round(seconds, 2)
    path.write_text(json.dumps(timings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"[timing] {name}: {seconds:.1f} s")


@contextlib.contextmanager
def api(api_url: str) -> Iterator[None]:
    """This test process's Prefect client points at `api_url` inside the block."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        yield


def expected_articles(first: date, last: date, timezone: str = "Europe/Istanbul") -> set[str]:
    """Ids of the sample's articles published on the days first..last (counted in `timezone`)."""
    specs = json.loads((SAMPLE / "articles.json").read_text(encoding="utf-8"))
    wanted = set()
    for spec in specs:
        day = datetime.fromisoformat(spec["published"]).astimezone(ZoneInfo(timezone)).date()
        if first <= day <= last:
            wanted.add(str(spec["id"]))
    return wanted


def lake_tables(lake_url: str) -> tuple[Any, Any]:
    """(articles, paragraphs) of a lake as pandas frames."""
    from wirestance.lake import Lake

    lake = Lake(lake_url)
    return lake.read("articles").to_pandas(), lake.read("paragraphs").to_pandas()
